using IlgpuVae.Kernels;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>The kernel conformance suite on the first OpenCL device (PoCL in CI, where it is required).</summary>
[TestClass]
public sealed class OpenCLKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => Devices.OpenHandWritten("opencl");
    protected override bool RequiredInCi => true;
}

/// <summary>
/// The suite on the same OpenCL device with the tuning a GPU would get (local-memory GEMM tiles, 256
/// work-item reductions): on PoCL in CI this runs the GPU code paths that no GPU-less machine runs otherwise.
/// </summary>
[TestClass]
public sealed class OpenCLGpuConfigurationConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator()
    {
        var acc = (KernelAccelerator)Devices.OpenHandWritten("opencl");
        acc.TuningLimits = acc.Limits with { IsGpu = true };
        return acc;
    }

    protected override bool RequiredInCi => true;
}

/// <summary>
/// The suite in the GPU configuration on a device whose driver holds every kernel to 64 work-items
/// (as drivers of mobile and older GPUs do for register-heavy kernels): the tuning must refit itself
/// to the kernels' own limit and every op still conform.
/// </summary>
[TestClass]
public sealed class OpenCLSmallKernelLimitConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator()
    {
        var acc = (KernelAccelerator)Devices.OpenHandWritten("opencl");
        acc.TuningLimits = acc.Limits with { IsGpu = true };
        acc.KernelWorkGroupLimitOverride = 64;
        return acc;
    }

    protected override bool RequiredInCi => true;
}
