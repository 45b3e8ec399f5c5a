using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Cpu;

/// <summary>
/// The whole suite on the CPU accelerator's scalar GEMM kernel, the last-resort path, on three threads
/// so that the split of C differs from the default one.
/// </summary>
[TestClass]
public sealed class CpuScalarKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => new CpuAccelerator(threads: 3, CpuGemmKernel.Scalar);
    protected override bool RequiredInCi => true;
}

/// <summary>
/// The whole suite on the 128-bit GEMM kernel, the path of machines without AVX2 (older x64, ARM64),
/// on one thread.
/// </summary>
[TestClass]
public sealed class CpuVector128KernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => new CpuAccelerator(threads: 1, CpuGemmKernel.Vector128);
    protected override bool RequiredInCi => true;
}
