namespace IlgpuVae.Kernels;

// Scaffold: the op mapping onto the shared kernel sources is written by the OpenCL backend work.
public abstract partial class KernelAccelerator
{
    private static NotSupportedException Missing(string op) => new($"{op} is not mapped onto the kernel sources yet");

    protected override void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue) => throw Missing("GEMM");
    protected override void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope) => throw Missing("activation");
    protected override void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope) => throw Missing("activation");
    protected override void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias) => throw Missing("bias gradient");
    protected override void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z) => throw Missing("sampling");
    protected override void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats) => throw Missing("sampling");
    protected override void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl) => throw Missing("loss");
    protected override void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v) => throw Missing("Adam");
    protected override void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random) => throw Missing("gather");
    protected override void ReduceSumCore(DeviceView<float> values, DeviceView<float> result) => throw Missing("reduce");
    protected override void FillCore(DeviceView<float> view, float value) => throw Missing("fill");
}
