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
