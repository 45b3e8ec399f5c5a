// PLACEHOLDER: stands in for the real ILGPU accelerator (kernels and ops), which replaces this whole file at merge.
// It has exactly the real class's public surface (the constructor and CreateCpu) so that device enumeration,
// `devices` and the device specifiers build and run before the kernels land; every op throws.
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>An accelerator on one ILGPU device (CUDA, OpenCL or ILGPU's CPU accelerator). Placeholder: no ops yet.</summary>
public sealed class IlgpuAccelerator : Accelerator
{
    private readonly Context _context;

    /// <summary>Opens <paramref name="device"/> of <paramref name="context"/>; takes ownership of the context.</summary>
    public IlgpuAccelerator(Context context, Device device, BackendKind kind, string specifier)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(specifier);
        _context = context;
        Kind = kind;
        Name = device.Name;
        Specifier = specifier;
    }

    /// <summary>ILGPU's CPU accelerator, specifier "ilgpu-cpu".</summary>
    public static IlgpuAccelerator CreateCpu()
    {
        var context = Context.Create(builder => builder.DefaultCPU());
        return new IlgpuAccelerator(context, context.GetCPUDevice(0), BackendKind.IlgpuCpu, "ilgpu-cpu");
    }

    public override BackendKind Kind { get; }
    public override string Name { get; }
    public override string Specifier { get; }

    protected override void DisposeCore() => _context.Dispose();

    private static NotImplementedException Missing() => new("the ILGPU kernels are not in this build (placeholder accelerator)");

    protected override DeviceBuffer<T> AllocateCore<T>(int length) => throw Missing();
    protected override void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination) => throw Missing();
    protected override void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination) => throw Missing();
    protected override void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination) => throw Missing();
    protected override void SynchronizeCore() => throw Missing();
    protected override void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue) => throw Missing();
    protected override void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope) => throw Missing();
    protected override void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope) => throw Missing();
    protected override void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias) => throw Missing();
    protected override void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z) => throw Missing();
    protected override void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats) => throw Missing();
    protected override void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl) => throw Missing();
    protected override void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v) => throw Missing();
    protected override void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random) => throw Missing();
    protected override void ReduceSumCore(DeviceView<float> values, DeviceView<float> result) => throw Missing();
    protected override void FillCore(DeviceView<float> view, float value) => throw Missing();
}
