using IlgpuVae.Kernels;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The conformance suite on the first CUDA device ILGPU can use, at the VAE's full shapes: the same C#
/// kernels as on ilgpu-cpu, now as PTX on a GPU. Inconclusive where there is none (CI has no GPU).
/// </summary>
[TestClass]
public sealed class IlgpuCudaKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => Devices.Open("cuda");
}

/// <summary>
/// The conformance suite on the first OpenCL device ILGPU can use (OpenCL 2.0+, or 3.0 with generic
/// address space). Inconclusive where there is none, as on Debian 12's PoCL, which ILGPU refuses; the
/// refusal itself is tested in IlgpuDevicesTests.
/// </summary>
[TestClass]
public sealed class IlgpuOpenCLKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => Devices.Open("opencl");
}
