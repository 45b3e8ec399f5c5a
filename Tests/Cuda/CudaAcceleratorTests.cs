using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cuda;

namespace IlgpuVae.Tests.Cuda;

/// <summary>What the CUDA backend adds to the shared op mapping: staging copies, launches, the kernel cache. Needs a GPU.</summary>
[TestClass]
public sealed class CudaAcceleratorTests
{
    private static CudaAccelerator Open()
    {
        try
        {
            return (CudaAccelerator)Devices.OpenHandWritten("cuda");
        }
        catch (DeviceUnavailableException e)
        {
            Assert.Inconclusive(e.Message);
            throw;
        }
    }

    [TestMethod]
    public void DeviceIsDescribed()
    {
        using var cuda = Open();
        Assert.AreEqual("cuda:0", cuda.Specifier);
        StringAssert.Contains(cuda.Name, $"sm_{cuda.ComputeCapability}");
        Assert.IsTrue(cuda.ComputeCapability >= 50);
        Assert.IsTrue(cuda.Limits.MaxWorkGroupSize >= 512 && cuda.Limits.LocalMemoryBytes >= 16 * 1024 && cuda.Limits.ComputeUnits > 0);
        Assert.AreEqual(32, cuda.Limits.SimdWidth);
        var listed = Devices.HandWrittenProvider(BackendKind.Cuda).Enumerate(out string? reason);
        Assert.IsNull(reason);
        Assert.AreEqual(cuda.DeviceName, listed[0].Name);
    }

    /// <summary>Copies larger than two staging chunks, at odd offsets, for each element size.</summary>
    [TestMethod]
    public void LargeCopiesRoundTripThroughTheStagingBuffers()
    {
        using var cuda = Open();
        int length = 2 * CudaStaging.ChunkBytes / sizeof(float) + 12345;
        var floats = Enumerable.Range(0, length).Select(i => i * 0.5f - 7f).ToArray();
        using var a = cuda.Allocate<float>(length + 3);
        using var b = cuda.Allocate<float>(length + 8);
        cuda.CopyFromHost<float>(floats, a.Slice(3, length));
        cuda.Copy(a.Slice(3, length), b.Slice(5, length));
        CollectionAssert.AreEqual(floats, cuda.Download(b.Slice(5, length)));

        var bytes = Enumerable.Range(0, CudaStaging.ChunkBytes + 17).Select(i => (byte)(i * 31)).ToArray();
        using var onDevice = cuda.Upload<byte>(bytes);
        CollectionAssert.AreEqual(bytes, cuda.Download(onDevice.Slice(0, bytes.Length)));

        // Back-to-back small uploads reuse the staging buffers without waiting on stale data.
        using var small = cuda.Allocate<int>(64);
        for (int round = 0; round < 10; round++)
        {
            var values = Enumerable.Range(round, 64).ToArray();
            cuda.CopyFromHost<int>(values, small.View);
            CollectionAssert.AreEqual(values, cuda.Download(small.View));
        }
    }

    [TestMethod]
    public void ZeroLengthBuffersNeedNoDeviceMemory()
    {
        using var cuda = Open();
        using var empty = cuda.Allocate<float>(0);
        Assert.AreEqual(0, cuda.Download(empty.View).Length);
        Assert.AreEqual(0UL, ((CudaBuffer<float>)empty).DevicePointer);
    }

    [TestMethod]
    public void LaunchRejectsBadGeometryAndUnknownKernels()
    {
        using var cuda = Open();
        using var values = cuda.Allocate<float>(256);
        cuda.Fill(values.View, 1f); // builds the elementwise family
        Assert.ThrowsExactly<ArgumentException>(() => cuda.Launch("fill_values", [KernelArg.Int(256), KernelArg.Float(2f), KernelArg.Buffer(values), KernelArg.Int(0)], 250, 1, 64, 1));
        Assert.ThrowsExactly<ArgumentException>(() => cuda.Launch("fill_values", [], 4096, 1, 4096, 1));
        var unknown = Assert.ThrowsExactly<InvalidOperationException>(() => cuda.Launch("no_such_kernel", [], 64, 1, 64, 1));
        StringAssert.Contains(unknown.Message, "elementwise");
        using var cpu = new IlgpuVae.Kernels.Cpu.CpuAccelerator();
        using var foreign = cpu.Allocate<float>(256);
        Assert.ThrowsExactly<ArgumentException>(() => cuda.Launch("fill_values", [KernelArg.Int(256), KernelArg.Float(2f), KernelArg.Buffer(foreign), KernelArg.Int(0)], 256, 1, 64, 1));
    }

    [TestMethod]
    public void ASecondOpenCompilesNothing()
    {
        using (var first = Open())
        {
            using var values = first.Allocate<float>(1000);
            first.Fill(values.View, 3f);
            first.ReduceSum(values.Slice(0, 999), values.Slice(999, 1));
            Assert.AreEqual(2997f, first.Download(values.Slice(999, 1))[0]);
        }
        using var second = Open();
        using var again = second.Allocate<float>(1000);
        second.Fill(again.View, 3f);
        second.ReduceSum(again.Slice(0, 999), again.Slice(999, 1));
        Assert.AreEqual(2997f, second.Download(again.Slice(999, 1))[0]);
        Assert.AreEqual(0, second.Compilations, "both families should have come from the disk cache");
    }
}
