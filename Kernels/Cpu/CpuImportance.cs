using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The ops of importance-sampled evaluation on the CPU: per-sample log weights (rows split statically over
/// the threads, exp and log vectorised a row at a time, sums in double), and the running logsumexp.
/// Evaluation runs these on 5,000 samples of every test image, so the reconstruction term is as lean as
/// the training loss's: no gradient is written.
/// </summary>
internal static class CpuImportance
{
    private const float HalfLog2Pi = 0.918938533204672742f;

    public static void Weights(CpuAccelerator acc, LossSettings s, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        DeviceView<float> eps, DeviceView<float> z, int rows, int features, int latent, DeviceView<float> logWeights, DeviceView<float> negativeElbo)
    {
        float[] L = logits.Array(), X = x.Array(), S = stats.Array(), E = eps.Array(), Z = z.Array(), W = logWeights.Array(), N = negativeElbo.Array();
        int lo = logits.Offset, xo = x.Offset, so = stats.Offset, eo = eps.Offset, zo = z.Offset, wo = logWeights.Offset, no = negativeElbo.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 16384 / features), (r0, r1) =>
        {
            var scratch = ArrayPool<float>.Shared.Rent(features);
            try
            {
                for (int i = r0; i < r1; i++)
                {
                    var l = new ReadOnlySpan<float>(L, lo + i * features, features);
                    var t = new ReadOnlySpan<float>(X, xo + i * features, features);
                    double recon = s.Likelihood == Likelihood.Bernoulli
                        ? BernoulliRecon(l, t, scratch.AsSpan(0, features))
                        : GaussianRecon(l, t, s.Sigma);
                    double logRatio = 0, kl = 0;
                    int statsRow = so + i * 2 * latent;
                    for (int j = 0; j < latent; j++)
                    {
                        double mu = S[statsRow + j], logvar = S[statsRow + latent + j];
                        double e = E[eo + i * latent + j], zz = Z[zo + i * latent + j];
                        logRatio += 0.5 * (e * e - zz * zz + logvar);
                        kl += -0.5 * (1 + logvar - mu * mu - Math.Exp(logvar));
                    }
                    W[wo + i] = (float)(logRatio - recon);
                    N[no + i] = (float)(recon + kl);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        });
    }

    /// <summary>sum_d max(l,0) − l t + log(1 + exp(−|l|)): −log p(x|z) of a Bernoulli with logits, stable for any logit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double BernoulliRecon(ReadOnlySpan<float> l, ReadOnlySpan<float> t, Span<float> softplus)
    {
        TensorPrimitives.Abs(l, softplus);
        TensorPrimitives.Negate(softplus, softplus);
        TensorPrimitives.Exp(softplus, softplus);
        TensorPrimitives.Add(softplus, 1f, softplus);
        TensorPrimitives.Log(softplus, softplus);
        return CpuLoss.SumBernoulliTerms(l, t, softplus);
    }

    /// <summary>sum_d (x − l)^2 / (2 sigma^2) + log sigma + log(2 pi)/2: −log p(x|z) of a Gaussian with fixed sigma.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double GaussianRecon(ReadOnlySpan<float> l, ReadOnlySpan<float> t, float sigma)
    {
        double invVar = 1.0 / ((double)sigma * sigma);
        double sum = 0;
        for (int i = 0; i < l.Length; i++)
        {
            float r = l[i] - t[i];
            sum += (double)r * r;
        }
        return 0.5 * sum * invVar + ((double)MathF.Log(sigma) + HalfLog2Pi) * l.Length;
    }

    /// <summary>
    /// The running logsumexp, row by row: the chunk's max first, then its exp-sum in double relative to the
    /// new max, then the old sum rescaled. −inf values add nothing (exp(−inf − m) = 0 for finite m; a row
    /// still all −inf is skipped, since −inf − (−inf) would be NaN).
    /// </summary>
    public static void LogSumExpRows(CpuAccelerator acc, DeviceView<float> values, int rows, int cols, DeviceView<float> runningMax, DeviceView<float> runningSum)
    {
        float[] V = values.Array(), M = runningMax.Array(), S = runningSum.Array();
        int vo = values.Offset, mo = runningMax.Offset, so = runningSum.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 16384 / cols), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                var row = new ReadOnlySpan<float>(V, vo + i * cols, cols);
                float chunkMax = TensorPrimitives.Max(row);
                float m = M[mo + i], newMax = MathF.Max(m, chunkMax);
                if (float.IsNegativeInfinity(newMax)) continue;
                double sum = 0;
                foreach (float v in row) sum += Math.Exp((double)v - newMax);
                M[mo + i] = newMax;
                S[so + i] = (float)(S[so + i] * Math.Exp((double)m - newMax) + sum);
            }
        });
    }
}
