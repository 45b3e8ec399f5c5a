using IlgpuVae.Kernels;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Cuda;

/// <summary>The kernel conformance suite on the first CUDA device; Inconclusive where there is none (CI has no GPU).</summary>
[TestClass]
public sealed class CudaKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => Devices.OpenHandWritten("cuda");
}
