using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Cpu;

/// <summary>
/// The whole suite on the CPU accelerator's portable kernels (no AVX2 micro-kernel), the path a machine
/// without AVX2+FMA takes, on three threads so that the split of C differs from the default one.
/// </summary>
[TestClass]
public sealed class CpuScalarKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => new CpuAccelerator(threads: 3, useSimd: false);
    protected override bool RequiredInCi => true;
}
