using IlgpuVae.Kernels;
using IlgpuVae.Kernels.OpenCL;
using static IlgpuVae.Kernels.OpenCL.OpenCLNative;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// CL_DEVICE_TYPE as `ilgpu-vae devices` and the accelerator's name report it, and what it decides:
/// `auto` ranking (GPU bit only) and the kernel tuning (GPU-style for GPUs and for accelerators with
/// on-chip local memory). Pure: no OpenCL driver needed.
/// </summary>
[TestClass]
public sealed class OpenCLDeviceTypeTests
{
    [TestMethod]
    [DataRow(DeviceTypeCpu, "CPU")]
    [DataRow(DeviceTypeGpu, "GPU")]
    [DataRow(DeviceTypeAccelerator, "accelerator")]
    [DataRow(DeviceTypeCustom, "custom")]
    [DataRow(DeviceTypeCpu | DeviceTypeDefault, "CPU")]
    [DataRow(DeviceTypeGpu | DeviceTypeAccelerator, "GPU+accelerator")]
    [DataRow(DeviceTypeAccelerator | DeviceTypeCustom, "accelerator+custom")]
    [DataRow(DeviceTypeCpu | DeviceTypeGpu | DeviceTypeAccelerator | DeviceTypeCustom, "CPU+GPU+accelerator+custom")]
    [DataRow(DeviceTypeDefault, "unknown type 0x1")]
    [DataRow(0UL, "unknown type 0x0")]
    [DataRow(1UL << 5, "unknown type 0x20")]
    public void TypeBitsBecomeTheirNames(ulong type, string expected)
        => Assert.AreEqual(expected, OpenCLDeviceEntry.DescribeType(type));

    [TestMethod]
    public void AnAcceleratorIsListedAsOneAndNotAsAGpuOrACpu()
    {
        var device = Entry(DeviceTypeAccelerator, dedicatedLocalMemory: true).ToDeviceInfo();
        Assert.AreEqual("accelerator", device.TypeName);
        Assert.IsFalse(device.IsGpu, "auto takes GPUs only; an accelerator is used when named");
        Assert.IsFalse(device.Details.Contains("unsupported"), device.Details);
    }

    [TestMethod]
    [DataRow(DeviceTypeCpu, false, false, "a CPU device (PoCL): CPU tuning")]
    [DataRow(DeviceTypeCpu, true, false, "a CPU device even with local memory reported as dedicated")]
    [DataRow(DeviceTypeGpu, false, true, "a GPU whatever its local memory type")]
    [DataRow(DeviceTypeGpu, true, true, "a GPU")]
    [DataRow(DeviceTypeAccelerator, true, true, "an accelerator with on-chip local memory (DSP, FPGA, many-core card)")]
    [DataRow(DeviceTypeAccelerator, false, false, "an accelerator whose local memory is global memory (an emulator)")]
    [DataRow(DeviceTypeGpu | DeviceTypeAccelerator, false, true, "GPU+accelerator")]
    public void TuningFollowsTheGpuBitOrOnChipLocalMemory(ulong type, bool dedicatedLocalMemory, bool tunesAsGpu, string what)
    {
        var entry = Entry(type, dedicatedLocalMemory);
        Assert.AreEqual(tunesAsGpu, entry.TunesAsGpu, what);
        Assert.AreEqual(tunesAsGpu, entry.Limits.IsGpu, what);
        Assert.AreEqual((type & DeviceTypeGpu) != 0, entry.ToDeviceInfo().IsGpu, what);
        Assert.AreEqual(!tunesAsGpu, KernelTuning.For(entry.Limits).PreferBlockedGemm, $"{what}: blocked GEMM is the CPU path");
    }

    [TestMethod]
    public void ACustomOnlyDeviceRunsNoOpenCLCAndSaysSo()
    {
        var custom = Entry(DeviceTypeCustom, dedicatedLocalMemory: true);
        Assert.IsTrue(custom.IsCustomOnly);
        Assert.IsFalse(custom.SupportsOpenCLC12, "CL_DEVICE_TYPE_CUSTOM devices run built-in kernels only");
        StringAssert.Contains(custom.ToDeviceInfo().Details, "custom device, no OpenCL C: unsupported");
        Assert.AreEqual("custom", custom.ToDeviceInfo().TypeName);

        var acceleratorAndCustom = Entry(DeviceTypeAccelerator | DeviceTypeCustom, dedicatedLocalMemory: true);
        Assert.IsFalse(acceleratorAndCustom.IsCustomOnly);
        Assert.IsTrue(acceleratorAndCustom.SupportsOpenCLC12);
    }

    [TestMethod]
    public void DevicesOfTheOtherBackendsKeepTheirTypeFromIsGpu()
    {
        Assert.AreEqual("GPU", new DeviceInfo(BackendKind.Cuda, 0, "cuda:0", "H100", "CUDA", 1, 1, true, "").TypeName);
        Assert.AreEqual("CPU", new DeviceInfo(BackendKind.Cpu, 0, "cpu", "CPU accelerator", "managed .NET", 1, 1, false, "").TypeName);
        foreach (var device in Devices.Provider(BackendKind.Cpu).Enumerate(out _))
            Assert.AreEqual("CPU", device.TypeName);
    }

    private static OpenCLDeviceEntry Entry(ulong type, bool dedicatedLocalMemory) => new(
        Index: 0, Platform: IntPtr.Zero, Device: IntPtr.Zero, PlatformName: "test platform", Name: "test device", Vendor: "test",
        Type: type, GlobalMemoryBytes: 1L << 30, MaxAllocationBytes: 1L << 28, LocalMemoryBytes: 64 * 1024,
        DedicatedLocalMemory: dedicatedLocalMemory, ComputeUnits: 8, MaxWorkGroupSize: 1024, PreferredFloatVectorWidth: 8,
        DeviceVersion: "OpenCL 1.2 test", OpenCLCVersion: "OpenCL C 1.2 test", DriverVersion: "1.0");
}
