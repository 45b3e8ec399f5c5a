using IlgpuVae.Kernels;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>The kernel conformance suite on the first OpenCL device (PoCL in CI, where it is required).</summary>
[TestClass]
public sealed class OpenCLKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => Devices.Open("opencl");
    protected override bool RequiredInCi => true;
}
