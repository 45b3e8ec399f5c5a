namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The managed CPU accelerator: no native dependency, all cores, SIMD. It is the default device and
/// the reference every other backend is tested against. Ops run synchronously on the calling thread
/// (fanning out to the thread pool), so Synchronize has nothing to wait for.
/// </summary>
public sealed class CpuAccelerator : Accelerator
{
    public CpuAccelerator(int? threads = null) : this(threads, CpuGemmMicroKernel.Best) { }

    /// <summary>
    /// Runs the given GEMM micro-kernel, or the best one the machine has if that is lower, so tests
    /// can hold the portable kernels to the same suite on a machine with AVX2.
    /// </summary>
    internal CpuAccelerator(int? threads, CpuGemmKernel gemmKernel)
    {
        Threads = Math.Max(1, threads ?? Environment.ProcessorCount);
        GemmKernel = (CpuGemmKernel)Math.Min((int)gemmKernel, (int)CpuGemmMicroKernel.Best);
        GemmJob = new CpuGemm.Job(Threads);
        Workers = new CpuWorkers(Threads);
    }

    public int Threads { get; }
    internal CpuWorkers Workers { get; }
    internal CpuGemmKernel GemmKernel { get; }
    internal CpuGemm.Job GemmJob { get; }

    public override BackendKind Kind => BackendKind.Cpu;
    public override string Specifier => "cpu";
    public override string Name => GemmKernel == CpuGemmMicroKernel.Best
        ? $"CPU accelerator ({Threads} threads, {CpuFeatures.Describe()})"
        : $"CPU accelerator ({Threads} threads, {GemmKernel} GEMM kernel)";

    protected override DeviceBuffer<T> AllocateCore<T>(int length) => new CpuBuffer<T>(this, length);
    protected override void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination) => source.CopyTo(destination.Span());
    protected override void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination) => source.Span().CopyTo(destination);
    protected override void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination) => source.Span().CopyTo(destination.Span());
    protected override void SynchronizeCore() { }

    protected override void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue)
        => CpuGemm.Run(this, transA, transB, m, n, k, alpha, a, b, beta, c, epilogue);

    protected override void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope)
        => CpuActivations.Forward(activation, x.Span(), y.Span(), leakySlope);

    protected override void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope)
        => CpuActivations.Backward(activation, y.Span(), dy.Span(), dx.Span(), leakySlope);

    protected override void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias)
        => CpuReductions.ColumnSums(dy.Span(), rows, cols, dbias.Span());

    protected override void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z)
        => CpuSampling.Forward(this, stats, rows, latent, random, eps, z);

    protected override void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats)
        => CpuSampling.Backward(stats.Span(), eps.Span(), dz.Span(), rows, latent, dstats.Span());

    protected override void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl)
        => CpuLoss.Run(this, settings, logits, x, stats, rows, features, latent, perSampleLoss, dlogits, dstats, perSampleKl);

    protected override void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v)
        => CpuAdam.Run(this, settings, biasCorrection1, biasCorrection2, parameters, gradients, m, v);

    protected override void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
        => CpuGather.Run(this, data, features, indices, rows, output, binarize, random);

    protected override void ReduceSumCore(DeviceView<float> values, DeviceView<float> result)
        => result.Span()[0] = CpuReductions.Sum(values.Span());

    protected override void ImportanceWeightsCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        DeviceView<float> eps, DeviceView<float> z, int rows, int features, int latent, DeviceView<float> logWeights, DeviceView<float> negativeElbo)
        => CpuImportance.Weights(this, settings, logits, x, stats, eps, z, rows, features, latent, logWeights, negativeElbo);

    protected override void LogSumExpRowsCore(DeviceView<float> values, int rows, int cols, DeviceView<float> runningMax, DeviceView<float> runningSum)
        => CpuImportance.LogSumExpRows(this, values, rows, cols, runningMax, runningSum);

    protected override void CopyColumnsCore(DeviceView<float> source, int rows, int sourceColumns, int sourceOffset,
        DeviceView<float> destination, int destinationColumns, int destinationOffset, int count)
        => CpuModelOps.CopyColumns(this, source, rows, sourceColumns, sourceOffset, destination, destinationColumns, destinationOffset, count);

    protected override void GatherOneHotCore(DeviceView<byte> labels, DeviceView<int> indices, int rows, int classes,
        DeviceView<float> destination, int destinationColumns, int destinationOffset)
        => CpuModelOps.GatherOneHot(labels, indices, rows, classes, destination, destinationColumns, destinationOffset);

    protected override void CorruptCore(Corruption corruption, DeviceView<float> clean, int rows, int height, int width, RandomSource random,
        DeviceView<float> corrupted)
        => CpuModelOps.Corrupt(this, corruption, clean, rows, height, width, random, corrupted);

    protected override void ScoreFunctionBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> perSampleLoss,
        DeviceView<float> perSampleKl, float klWeight, ScoreBaseline baseline, int rows, int latent, DeviceView<float> dstats)
        => CpuModelOps.ScoreFunctionBackward(this, stats, eps, perSampleLoss, perSampleKl, klWeight, baseline, rows, latent, dstats);

    protected override void FreeBitsCore(DeviceView<float> stats, int rows, int latent, float lambda, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dstats, DeviceView<float> freed)
        => CpuFreeBits.FreeBits(this, stats, rows, latent, lambda, weight, perSampleLoss, dstats, freed);

    protected override void GaussianKlCore(DeviceView<float> q, DeviceView<float> p, int rows, int latent, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dq, DeviceView<float> dp, DeviceView<float> perSampleKl)
        => CpuLatentOps.GaussianKl(this, q, p, rows, latent, weight, perSampleLoss, dq, dp, perSampleKl);

    protected override void PrecisionMergeCore(DeviceView<float> bottomUp, DeviceView<float> topDown, int rows, int latent, DeviceView<float> merged)
        => CpuLatentOps.PrecisionMerge(this, bottomUp, topDown, rows, latent, merged);

    protected override void PrecisionMergeBackwardCore(DeviceView<float> bottomUp, DeviceView<float> topDown, DeviceView<float> dMerged,
        int rows, int latent, DeviceView<float> dBottomUp, DeviceView<float> dTopDown)
        => CpuLatentOps.PrecisionMergeBackward(this, bottomUp, topDown, dMerged, rows, latent, dBottomUp, dTopDown);

    protected override void LogisticLossCore(DeviceView<float> logits, int rows, float target, float scale,
        DeviceView<float> perSampleLoss, DeviceView<float> dlogits)
        => CpuLatentOps.LogisticLoss(this, logits, rows, target, scale, perSampleLoss, dlogits);
    protected override void Im2ColCore(DeviceView<float> input, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> columns)
        => CpuConvolution.Im2Col(this, input, images, height, width, channels, kernel, stride, padding, columns);

    protected override void Col2ImCore(DeviceView<float> columns, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> output)
        => CpuConvolution.Col2Im(this, columns, images, height, width, channels, kernel, stride, padding, output);

    protected override void BiasActivationCore(DeviceView<float> values, int rows, int columns, DeviceView<float> bias, Activation activation,
        float leakySlope)
        => CpuConvolution.BiasActivation(this, values, rows, columns, bias, activation, leakySlope);

    protected override void DisposeCore() => Workers.Dispose();

    protected override void FillCore(DeviceView<float> view, float value) => view.Span().Fill(value);
}
