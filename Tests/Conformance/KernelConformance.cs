using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// The kernel conformance suite, written once (partial files beside this one, one op family each) and
/// run on every backend present: one sealed [TestClass] subclass per backend provides the accelerator.
/// A backend that is absent makes its tests Inconclusive on a developer machine; a backend that CI
/// installs (RequiredInCi) fails instead when CI=true, so a broken install can never pass as skipped.
/// </summary>
public abstract partial class KernelConformance
{
    private Accelerator? _accelerator;

    /// <summary>Opens this backend's device; throws DeviceUnavailableException when it is not present.</summary>
    protected abstract Accelerator CreateAccelerator();

    /// <summary>True for backends that CI installs (the CPU accelerator, OpenCL on PoCL).</summary>
    protected virtual bool RequiredInCi => false;

    /// <summary>
    /// True for backends too slow for the VAE's full shapes (ILGPU's CPU accelerator runs one OS thread
    /// per GPU thread): the large GEMM cases then run on shrunk shapes (<see cref="Shape"/>) that keep
    /// every ragged edge, transpose pair and epilogue, and every op stays covered.
    /// </summary>
    protected virtual bool SmallShapesOnly => false;

    /// <summary>A dimension of a large case: itself, or on a small-shapes backend about an eighth of it (never a multiple of 8).</summary>
    protected int Shape(int dimension) => SmallShapesOnly && dimension > 16 ? dimension / 8 + 1 : dimension;

    protected Accelerator Acc => _accelerator ?? throw new InvalidOperationException("no accelerator");

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void OpenDevice()
    {
        try
        {
            _accelerator = CreateAccelerator();
        }
        catch (DeviceUnavailableException e)
        {
            if (RequiredInCi && IsCi) Assert.Fail($"backend required in CI is unavailable: {e.Message}");
            Assert.Inconclusive(e.Message);
        }
    }

    [TestCleanup]
    public void CloseDevice() => _accelerator?.Dispose();

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The suite on the managed CPU accelerator.</summary>
[TestClass]
public sealed class CpuKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => new IlgpuVae.Kernels.Cpu.CpuAccelerator();
    protected override bool RequiredInCi => true;
}
