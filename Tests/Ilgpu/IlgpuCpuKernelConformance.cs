using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The whole conformance suite on the C# ILGPU kernels, run by ILGPU's CPU accelerator: no native
/// dependency, so it runs everywhere CI does. One OS thread per GPU thread makes it slow, so the
/// VAE-sized GEMMs run shrunk (every edge, transpose and epilogue still covered).
/// </summary>
[TestClass]
public sealed class IlgpuCpuKernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => IlgpuAccelerator.CreateCpu();
    protected override bool RequiredInCi => true;
    protected override bool SmallShapesOnly => true;
}
