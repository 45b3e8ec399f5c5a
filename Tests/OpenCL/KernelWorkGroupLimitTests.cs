using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>The tuning fits the per-kernel work-group limits a driver reports, not only the device's maximum.</summary>
[TestClass]
public sealed class KernelWorkGroupLimitTests
{
    [TestMethod]
    [DataRow(16)]
    [DataRow(32)]
    [DataRow(64)]
    [DataRow(128)]
    [DataRow(256)]
    [DataRow(1024)]
    public void EveryLaunchOfATuningFitsItsLimit(int maxGroup)
    {
        foreach (bool gpu in new[] { true, false })
        {
            var tuning = KernelTuning.For(new KernelDeviceLimits(maxGroup, 48 * 1024, 8, gpu, 32));
            Assert.IsLessThanOrEqualTo(maxGroup, tuning.LargestGroup, $"gpu {gpu}: {tuning}");
        }
    }

    [TestMethod]
    public void TheBackendReportsEachBuiltKernelsLimit()
    {
        using var acc = OpenCLTestDevice.Open();
        Assert.AreEqual(int.MaxValue, acc.KernelWorkGroupLimit("gemm_tiled"), "a kernel not built yet has no limit to report");
        acc.EnsureBuilt("gemm");
        int limit = acc.KernelWorkGroupLimit("gemm_tiled");
        Assert.IsGreaterThanOrEqualTo(1, limit);
        Assert.IsLessThanOrEqualTo(acc.Limits.MaxWorkGroupSize, limit);
    }

    [TestMethod]
    public void ASmallerKernelLimitRefitsTheTuningAndRebuildsWhatWasBuilt()
    {
        using var acc = OpenCLTestDevice.Open();
        acc.TuningLimits = acc.Limits with { IsGpu = true };
        Assert.AreEqual(256, acc.Tuning.LargestGroup);
        using var x = acc.Upload<float>([1f, -2f, 3f]);
        acc.ActivationForward(Activation.Relu, x, x); // builds the elementwise family with 256-wide groups
        acc.KernelWorkGroupLimitOverride = 64;
        acc.EnsureBuilt("gemm");
        Assert.AreEqual(64, acc.Tuning.LargestGroup);
        Assert.AreEqual(32, acc.Tuning.GemmTileM, "64 work-items of 4x4 outputs");

        // Both the family built before the refit and the one after run with the new geometry.
        acc.ActivationForward(Activation.Relu, x, x);
        CollectionAssert.AreEqual(new[] { 1f, 0f, 3f }, acc.Download(x.View));
        using var a = acc.Upload<float>([1f, 2f, 3f, 4f]);
        using var b = acc.Upload<float>([5f, 6f, 7f, 8f]);
        using var c = acc.Allocate<float>(4);
        acc.Gemm(Transpose.N, Transpose.N, 2, 2, 2, 1f, a, b, 0f, c);
        CollectionAssert.AreEqual(new[] { 19f, 22f, 43f, 50f }, acc.Download(c.View));
    }
}
