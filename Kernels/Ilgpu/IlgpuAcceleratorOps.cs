using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// The op set on the ILGPU kernels: which kernel serves each op, with which views and groups. Views
/// carry their offsets, so kernels index from 0. Every launch is counted.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    private KernelConfig Elementwise(int items) => new(Shapes.ElementGroupsFor(items), Shapes.ElementGroup);

    protected override void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue)
    {
        bool hasBias = !epilogue.Bias.IsNull;
        // Without a bias, C stands in for the unused view (never read).
        var bias = hasBias ? epilogue.Bias : c;
        var args = new GemmArgs(transA, transB, m, n, k, alpha, beta, hasBias, epilogue.Activation, epilogue.LeakySlope);
        CountLaunch();
        if (GemmTile == IlgpuGemmTile.Tile64x64)
            _kernels.Gemm64x64(IlgpuGemmKernel.Config<GemmTile64x64>(m, n), a.Kernel(), b.Kernel(), c.Kernel(), bias.Kernel(), args);
        else
            _kernels.Gemm16x32(IlgpuGemmKernel.Config<GemmTile16x32>(m, n), a.Kernel(), b.Kernel(), c.Kernel(), bias.Kernel(), args);
    }

    protected override void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope)
    {
        CountLaunch();
        _kernels.ActivationForward(Elementwise(x.Length), x.Kernel(), y.Kernel(), (int)activation, leakySlope);
    }

    protected override void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope)
    {
        CountLaunch();
        _kernels.ActivationBackward(Elementwise(y.Length), y.Kernel(), dy.Kernel(), dx.Kernel(), (int)activation, leakySlope);
    }

    protected override void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias)
    {
        int blocks = (cols + Shapes.BiasX - 1) / Shapes.BiasX;
        var config = new KernelConfig(new Index2D(Math.Min(blocks, Shapes.MaxElementGroups), 1), new Index2D(Shapes.BiasX, Shapes.BiasY));
        CountLaunch();
        _kernels.BiasGradient(config, dy.Kernel(), dbias.Kernel(), rows, cols);
    }

    protected override void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z)
    {
        CountLaunch();
        _kernels.SampleLatent(Elementwise(new PhiloxArgs(random).Groups(rows * latent)), stats.Kernel(), eps.Kernel(), z.Kernel(), latent, new PhiloxArgs(random));
    }

    protected override void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats)
    {
        CountLaunch();
        _kernels.SampleLatentBackward(Elementwise(rows * latent), stats.Kernel(), eps.Kernel(), dz.Kernel(), dstats.Kernel(), latent);
    }

    protected override void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl)
    {
        bool hasKl = !perSampleKl.IsNull;
        var kl = hasKl ? perSampleKl : perSampleLoss;
        var config = new KernelConfig(Math.Min(rows, Shapes.MaxElementGroups), Shapes.ReduceGroup);
        CountLaunch();
        _kernels.VaeLoss(config, logits.Kernel(), x.Kernel(), stats.Kernel(), perSampleLoss.Kernel(), dlogits.Kernel(), dstats.Kernel(),
            kl.Kernel(), new LossArgs(settings, rows, features, latent, hasKl));
    }

    protected override void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v)
    {
        CountLaunch();
        _kernels.Adam(Elementwise(parameters.Length), parameters.Kernel(), gradients.Kernel(), m.Kernel(), v.Kernel(),
            new AdamArgs(settings, biasCorrection1, biasCorrection2));
    }

    protected override void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
    {
        CountLaunch();
        _kernels.Gather(Elementwise(new PhiloxArgs(random).Groups(rows * features)), data.Kernel(), indices.Kernel(), output.Kernel(), features,
            binarize ? 1 : 0, new PhiloxArgs(random));
    }

    protected override void ReduceSumCore(DeviceView<float> values, DeviceView<float> result)
    {
        CountLaunch();
        _kernels.ReduceSum(new KernelConfig(1, Shapes.ReduceGroup), values.Kernel(), result.Kernel());
    }

    protected override void ImportanceWeightsCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        DeviceView<float> eps, DeviceView<float> z, int rows, int features, int latent, DeviceView<float> logWeights, DeviceView<float> negativeElbo)
    {
        var config = new KernelConfig(Math.Min(rows, Shapes.MaxElementGroups), Shapes.ReduceGroup);
        CountLaunch();
        _kernels.ImportanceWeights(config, logits.Kernel(), x.Kernel(), stats.Kernel(), eps.Kernel(), z.Kernel(), logWeights.Kernel(),
            negativeElbo.Kernel(), new ImportanceArgs(settings, rows, features, latent));
    }

    protected override void LogSumExpRowsCore(DeviceView<float> values, int rows, int cols, DeviceView<float> runningMax, DeviceView<float> runningSum)
    {
        var config = new KernelConfig(Math.Min(rows, Shapes.MaxElementGroups), Shapes.ReduceGroup);
        CountLaunch();
        _kernels.LogSumExpRows(config, values.Kernel(), runningMax.Kernel(), runningSum.Kernel(), rows, cols);
    }

    protected override void CopyColumnsCore(DeviceView<float> source, int rows, int sourceColumns, int sourceOffset,
        DeviceView<float> destination, int destinationColumns, int destinationOffset, int count)
    {
        CountLaunch();
        _kernels.CopyColumns(Elementwise(rows * count), source.Kernel(), destination.Kernel(),
            new ColumnsArgs(rows, count, sourceColumns, sourceOffset, destinationColumns, destinationOffset));
    }

    protected override void GatherOneHotCore(DeviceView<byte> labels, DeviceView<int> indices, int rows, int classes,
        DeviceView<float> destination, int destinationColumns, int destinationOffset)
    {
        CountLaunch();
        _kernels.GatherOneHot(Elementwise(rows * classes), labels.Kernel(), indices.Kernel(), destination.Kernel(),
            new ColumnsArgs(rows, classes, 0, 0, destinationColumns, destinationOffset));
    }

    protected override void CorruptCore(Corruption corruption, DeviceView<float> clean, int rows, int height, int width, RandomSource random,
        DeviceView<float> corrupted)
    {
        CountLaunch();
        if (corruption.Kind == CorruptionKind.Downsample)
            _kernels.CorruptDownsample(Elementwise(clean.Length), clean.Kernel(), corrupted.Kernel(), height, width, (int)corruption.Amount);
        else
            _kernels.CorruptNoise(Elementwise(new PhiloxArgs(random).Groups(clean.Length)), clean.Kernel(), corrupted.Kernel(),
                (int)corruption.Kind, corruption.Amount, new PhiloxArgs(random));
    }

    protected override void ScoreFunctionBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> perSampleLoss,
        DeviceView<float> perSampleKl, float klWeight, ScoreBaseline baseline, int rows, int latent, DeviceView<float> dstats)
    {
        CountLaunch();
        _kernels.ScoreFunction(Elementwise(rows * latent), stats.Kernel(), eps.Kernel(), perSampleLoss.Kernel(), perSampleKl.Kernel(),
            dstats.Kernel(), new ScoreArgs(rows, latent, klWeight, baseline));
    }

    protected override void FreeBitsCore(DeviceView<float> stats, int rows, int latent, float lambda, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dstats, DeviceView<float> freed)
    {
        CountLaunch();
        _kernels.FreedDimensions(Elementwise(latent), stats.Kernel(), freed.Kernel(), rows, latent, lambda);
        CountLaunch();
        _kernels.ApplyFloor(Elementwise(rows), stats.Kernel(), freed.Kernel(), perSampleLoss.Kernel(), dstats.Kernel(), rows, latent, lambda, weight);
    }

    protected override void GaussianKlCore(DeviceView<float> q, DeviceView<float> p, int rows, int latent, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dq, DeviceView<float> dp, DeviceView<float> perSampleKl)
    {
        bool hasKl = !perSampleKl.IsNull;
        var kl = hasKl ? perSampleKl : perSampleLoss;
        CountLaunch();
        _kernels.GaussianKl(Elementwise(rows), q.Kernel(), p.Kernel(), perSampleLoss.Kernel(), dq.Kernel(), dp.Kernel(), kl.Kernel(),
            new KlArgs(rows, latent, weight, hasKl));
    }

    protected override void PrecisionMergeCore(DeviceView<float> bottomUp, DeviceView<float> topDown, int rows, int latent, DeviceView<float> merged)
    {
        CountLaunch();
        _kernels.PrecisionMerge(Elementwise(rows * latent), bottomUp.Kernel(), topDown.Kernel(), merged.Kernel(), rows, latent);
    }

    protected override void PrecisionMergeBackwardCore(DeviceView<float> bottomUp, DeviceView<float> topDown, DeviceView<float> dMerged,
        int rows, int latent, DeviceView<float> dBottomUp, DeviceView<float> dTopDown)
    {
        CountLaunch();
        _kernels.PrecisionMergeBackward(Elementwise(rows * latent), bottomUp.Kernel(), topDown.Kernel(), dMerged.Kernel(),
            dBottomUp.Kernel(), dTopDown.Kernel(), rows, latent);
    }

    protected override void LogisticLossCore(DeviceView<float> logits, int rows, float target, float scale,
        DeviceView<float> perSampleLoss, DeviceView<float> dlogits)
    {
        CountLaunch();
        _kernels.LogisticLoss(Elementwise(rows), logits.Kernel(), perSampleLoss.Kernel(), dlogits.Kernel(), target, scale);
    }

    protected override void Im2ColCore(DeviceView<float> input, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> columns)
    {
        CountLaunch();
        _kernels.Im2Col(Elementwise(columns.Length), input.Kernel(), columns.Kernel(),
            new ConvolutionArgs(images, height, width, channels, kernel, stride, padding));
    }

    protected override void Col2ImCore(DeviceView<float> columns, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> output)
    {
        CountLaunch();
        _kernels.Col2Im(Elementwise(output.Length), columns.Kernel(), output.Kernel(),
            new ConvolutionArgs(images, height, width, channels, kernel, stride, padding));
    }

    protected override void BiasActivationCore(DeviceView<float> values, int rows, int columns, DeviceView<float> bias, Activation activation,
        float leakySlope)
    {
        CountLaunch();
        _kernels.BiasActivation(Elementwise(values.Length), values.Kernel(), bias.Kernel(), columns, (int)activation, leakySlope);
    }

    protected override void FillCore(DeviceView<float> view, float value)
    {
        CountLaunch();
        _kernels.Fill(Elementwise(view.Length), view.Kernel(), value);
    }

    /// <summary>
    /// Raw Philox4x32-10 blocks on the device: output[4q..4q+3] = Block(counters[4q..4q+3], keys[2q..2q+1]).
    /// Not part of the training op set: it lets a device be checked against the known-answer vectors.
    /// </summary>
    public void PhiloxBlocks(DeviceView<uint> counters, DeviceView<uint> keys, DeviceView<uint> output)
    {
        ThrowIfDisposed();
        if (counters.IsNull || keys.IsNull || output.IsNull) throw new ArgumentException("counters, keys and output are required");
        if (counters.Length % 4 != 0) throw new ArgumentException($"counters has {counters.Length} words, not a multiple of 4", nameof(counters));
        int blocks = counters.Length / 4;
        if (keys.Length != 2 * blocks) throw new ArgumentException($"keys has {keys.Length} words; expected {2 * blocks}", nameof(keys));
        if (output.Length != counters.Length) throw new ArgumentException($"output has {output.Length} words; expected {counters.Length}", nameof(output));
        foreach (var view in (ReadOnlySpan<DeviceView<uint>>)[counters, keys, output])
            if (!ReferenceEquals(view.Buffer!.Accelerator, this) || view.Buffer.IsDisposed)
                throw new ArgumentException($"{view} is disposed or belongs to another accelerator");
        if (blocks == 0) return;
        CountLaunch();
        _kernels.PhiloxBlocks(Elementwise(blocks), counters.Kernel(), keys.Kernel(), output.Kernel());
    }
}
