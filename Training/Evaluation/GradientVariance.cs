using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// How noisy each estimator of the ELBO's encoder gradient is on one batch: the same parameters and
/// images, N independent draws of eps for each estimator (draw s uses Philox step s of the
/// GradientVariance stream, the same for every estimator), each draw a full backward whose encoder
/// gradients are accumulated per element (<see cref="GradientVarianceStatistics"/>).
/// </summary>
public static class GradientVariance
{
    public static readonly GradientEstimator[] Estimators =
        [GradientEstimator.Reparameterisation, GradientEstimator.Score, GradientEstimator.ScoreWithBaseline];

    /// <summary>The encoder's tensors (hidden layers and the two heads), one group each: the score function only changes these.</summary>
    public static IReadOnlyList<ParameterGroup> EncoderGroups(ParameterLayout layout)
    {
        // The MLP's hidden layers, a conv model's convolutions, and the heads.
        var encoder = layout.Encoder.Concat(layout.Group("conv")).Append(layout.Heads).ToList();
        bool InEncoder(ParameterTensor t) => encoder.Any(s => t.Offset >= s.WeightOffset && t.Offset < s.WeightOffset + s.WeightLength
            || t.Offset >= s.BiasOffset && t.Offset < s.BiasOffset + s.Out);
        return [.. ParameterGroup.PerTensor(layout).Where(g => InEncoder(layout[g.Name]))];
    }

    /// <summary>
    /// samples gradient estimates of each estimator for the batch (rows of it), in the order of
    /// <see cref="Estimators"/>; progress hears (estimator index, draws done).
    /// </summary>
    public static GradientVarianceStatistics[] Run(IVaeModel network, VaeBatch batch, int rows, int samples, ulong seed,
        Action<int, int>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 2);
        var acc = network.Accelerator;
        var gradient = new float[network.Gradients.Length];
        var result = new GradientVarianceStatistics[Estimators.Length];
        for (int e = 0; e < Estimators.Length; e++)
        {
            result[e] = new GradientVarianceStatistics(gradient.Length);
            for (int s = 0; s < samples; s++)
            {
                cancellation.ThrowIfCancellationRequested();
                network.ForwardLoss(batch, rows, new RandomSource(seed, (uint)s, RandomStream.GradientVariance));
                network.Backward(batch, rows, Estimators[e]);
                acc.CopyToHost(network.Gradients.View, gradient);
                result[e].Add(gradient);
                progress?.Invoke(e, s + 1);
            }
        }
        return result;
    }
}
