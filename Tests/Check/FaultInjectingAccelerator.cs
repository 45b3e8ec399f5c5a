using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Check;

/// <summary>A defect that <see cref="FaultInjectingAccelerator"/> puts into otherwise correct results.</summary>
public enum InjectedFault { None, GemmTransposedA, LossGradient, AdamThrows, FillPastTheView, SampledEps, CorruptedInput, ScoreGradient, KlGradient, MergeGradient, LogisticGradient }

/// <summary>
/// The CPU accelerator behind a wrapper that breaks one op on purpose, the way a faulty kernel would:
/// a slightly wrong element, a write past the view, an exception. Every other op is the real CPU op, so
/// a device check run on it must fail exactly the checks of the broken op.
/// </summary>
internal sealed class FaultInjectingAccelerator(InjectedFault fault) : Accelerator
{
    private readonly CpuAccelerator _inner = new();

    public override BackendKind Kind => BackendKind.Cpu;
    public override string Name => $"CPU accelerator with {fault}";
    public override string Specifier => "cpu";

    private sealed class Buffer<T>(Accelerator owner, DeviceBuffer<T> inner) : DeviceBuffer<T>(owner, inner.Length) where T : unmanaged
    {
        public DeviceBuffer<T> Inner { get; } = inner;
        protected override void DisposeCore() => Inner.Dispose();
    }

    private static DeviceView<T> In<T>(DeviceView<T> view) where T : unmanaged
        => view.IsNull ? default : ((Buffer<T>)view.Buffer!).Inner.Slice(view.Offset, view.Length);

    /// <summary>Adds a small error to one element in the middle of a result.</summary>
    private void Perturb(DeviceView<float> view)
    {
        var values = _inner.Download(view);
        values[values.Length / 2] += 1e-3f + 1e-3f * Math.Abs(values[values.Length / 2]);
        _inner.CopyFromHost<float>(values, view);
    }

    protected override DeviceBuffer<T> AllocateCore<T>(int length) => new Buffer<T>(this, _inner.Allocate<T>(length));
    protected override void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination) => _inner.CopyFromHost(source, In(destination));
    protected override void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination) => _inner.CopyToHost(In(source), destination);
    protected override void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination) => _inner.Copy(In(source), In(destination));
    protected override void SynchronizeCore() => _inner.Synchronize();

    protected override void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue)
    {
        _inner.Gemm(transA, transB, m, n, k, alpha, In(a), In(b), beta, In(c), epilogue with { Bias = In(epilogue.Bias) });
        if (fault == InjectedFault.GemmTransposedA && transA == Transpose.T && transB == Transpose.N) Perturb(In(c));
    }

    protected override void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope)
        => _inner.ActivationForward(activation, In(x), In(y), leakySlope);

    protected override void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope)
        => _inner.ActivationBackward(activation, In(y), In(dy), In(dx), leakySlope);

    protected override void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias)
        => _inner.BiasGradient(In(dy), rows, cols, In(dbias));

    protected override void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z)
    {
        _inner.SampleLatent(In(stats), rows, latent, random, In(eps), In(z));
        if (fault == InjectedFault.SampledEps) Perturb(In(eps));
    }

    protected override void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats)
        => _inner.SampleLatentBackward(In(stats), In(eps), In(dz), rows, latent, In(dstats));

    protected override void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl)
    {
        _inner.VaeLoss(settings, In(logits), In(x), In(stats), rows, features, latent, In(perSampleLoss), In(dlogits), In(dstats), In(perSampleKl));
        if (fault == InjectedFault.LossGradient) Perturb(In(dlogits));
    }

    protected override void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v)
    {
        if (fault == InjectedFault.AdamThrows) throw new InvalidOperationException("adam_step: launch failed (injected)");
        // The CPU kernel itself: the public op would want the step, which the bias corrections stand for here.
        CpuAdam.Run(_inner, settings, biasCorrection1, biasCorrection2, In(parameters), In(gradients), In(m), In(v));
    }

    protected override void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
        => _inner.GatherBatch(In(data), features, In(indices), rows, In(output), binarize, random);

    protected override void ReduceSumCore(DeviceView<float> values, DeviceView<float> result) => _inner.ReduceSum(In(values), In(result));

    protected override void ImportanceWeightsCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        DeviceView<float> eps, DeviceView<float> z, int rows, int features, int latent, DeviceView<float> logWeights, DeviceView<float> negativeElbo)
        => _inner.ImportanceWeights(settings, In(logits), In(x), In(stats), In(eps), In(z), rows, features, latent, In(logWeights), In(negativeElbo));

    protected override void LogSumExpRowsCore(DeviceView<float> values, int rows, int cols, DeviceView<float> runningMax, DeviceView<float> runningSum)
        => _inner.LogSumExpRows(In(values), rows, cols, In(runningMax), In(runningSum));

    protected override void CopyColumnsCore(DeviceView<float> source, int rows, int sourceColumns, int sourceOffset,
        DeviceView<float> destination, int destinationColumns, int destinationOffset, int count)
        => _inner.CopyColumns(In(source), rows, sourceColumns, sourceOffset, In(destination), destinationColumns, destinationOffset, count);

    protected override void GatherOneHotCore(DeviceView<byte> labels, DeviceView<int> indices, int rows, int classes,
        DeviceView<float> destination, int destinationColumns, int destinationOffset)
        => _inner.GatherOneHot(In(labels), In(indices), rows, classes, In(destination), destinationColumns, destinationOffset);

    protected override void CorruptCore(Corruption corruption, DeviceView<float> clean, int rows, int height, int width, RandomSource random,
        DeviceView<float> corrupted)
    {
        _inner.Corrupt(corruption, In(clean), rows, height, width, random, In(corrupted));
        if (fault == InjectedFault.CorruptedInput) Perturb(In(corrupted));
    }

    protected override void ScoreFunctionBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> perSampleLoss,
        DeviceView<float> perSampleKl, float klWeight, ScoreBaseline baseline, int rows, int latent, DeviceView<float> dstats)
    {
        _inner.ScoreFunctionBackward(In(stats), In(eps), In(perSampleLoss), In(perSampleKl), klWeight, baseline, rows, latent, In(dstats));
        if (fault == InjectedFault.ScoreGradient) Perturb(In(dstats));
    }

    protected override void FreeBitsCore(DeviceView<float> stats, int rows, int latent, float lambda, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dstats, DeviceView<float> freed)
        => _inner.FreeBits(In(stats), rows, latent, lambda, weight, In(perSampleLoss), In(dstats), In(freed));

    protected override void GaussianKlCore(DeviceView<float> q, DeviceView<float> p, int rows, int latent, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dq, DeviceView<float> dp, DeviceView<float> perSampleKl)
    {
        _inner.GaussianKl(In(q), In(p), rows, latent, weight, In(perSampleLoss), In(dq), In(dp), In(perSampleKl));
        if (fault == InjectedFault.KlGradient) Perturb(In(dp));
    }

    protected override void PrecisionMergeCore(DeviceView<float> bottomUp, DeviceView<float> topDown, int rows, int latent, DeviceView<float> merged)
        => _inner.PrecisionMerge(In(bottomUp), In(topDown), rows, latent, In(merged));

    protected override void PrecisionMergeBackwardCore(DeviceView<float> bottomUp, DeviceView<float> topDown, DeviceView<float> dMerged,
        int rows, int latent, DeviceView<float> dBottomUp, DeviceView<float> dTopDown)
    {
        _inner.PrecisionMergeBackward(In(bottomUp), In(topDown), In(dMerged), rows, latent, In(dBottomUp), In(dTopDown));
        if (fault == InjectedFault.MergeGradient) Perturb(In(dTopDown));
    }

    protected override void LogisticLossCore(DeviceView<float> logits, int rows, float target, float scale,
        DeviceView<float> perSampleLoss, DeviceView<float> dlogits)
    {
        _inner.LogisticLoss(In(logits), rows, target, scale, In(perSampleLoss), In(dlogits));
        if (fault == InjectedFault.LogisticGradient) Perturb(In(dlogits));
    }
    protected override void Im2ColCore(DeviceView<float> input, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> columns)
        => _inner.Im2Col(In(input), images, height, width, channels, kernel, stride, padding, In(columns));

    protected override void Col2ImCore(DeviceView<float> columns, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> output)
        => _inner.Col2Im(In(columns), images, height, width, channels, kernel, stride, padding, In(output));

    protected override void BiasActivationCore(DeviceView<float> values, int rows, int columns, DeviceView<float> bias, Activation activation,
        float leakySlope)
        => _inner.BiasActivation(In(values), rows, columns, In(bias), activation, leakySlope);

    protected override void FillCore(DeviceView<float> view, float value)
    {
        var inner = In(view);
        // One element too many, as a kernel with an off-by-one bound check would write.
        bool overrun = fault == InjectedFault.FillPastTheView && inner.Offset + inner.Length < inner.Buffer!.Length;
        _inner.Fill(overrun ? inner.Buffer!.Slice(inner.Offset, inner.Length + 1) : inner, value);
    }

    protected override void DisposeCore() => _inner.Dispose();
}
