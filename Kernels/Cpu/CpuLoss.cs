using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The fused VAE loss: per-sample negative ELBO and every gradient in one pass over the batch, rows
/// split statically over the threads. exp and log run through TensorPrimitives' vectorised functions
/// over a row at a time; the per-row sums accumulate in double, so a 784-term sum loses nothing to
/// float rounding.
/// </summary>
internal static class CpuLoss
{
    private const float HalfLog2Pi = 0.918938533204672742f;

    public static void Run(CpuAccelerator acc, LossSettings s, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl)
    {
        float[] L = logits.Array(), X = x.Array(), S = stats.Array(), P = perSampleLoss.Array(), DL = dlogits.Array(), DS = dstats.Array();
        int lo = logits.Offset, xo = x.Offset, so = stats.Offset, po = perSampleLoss.Offset, dlo = dlogits.Offset, dso = dstats.Offset;
        float[]? K = perSampleKl.IsNull ? null : perSampleKl.Array();
        int ko = perSampleKl.IsNull ? 0 : perSampleKl.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 16384 / features), (r0, r1) =>
        {
            var scratch = ArrayPool<float>.Shared.Rent(2 * features + 2 * latent);
            try
            {
                for (int i = r0; i < r1; i++)
                {
                    var l = new ReadOnlySpan<float>(L, lo + i * features, features);
                    var t = new ReadOnlySpan<float>(X, xo + i * features, features);
                    var dl = new Span<float>(DL, dlo + i * features, features);
                    double recon = s.Likelihood == Likelihood.Bernoulli
                        ? Bernoulli(l, t, dl, scratch.AsSpan(0, features), scratch.AsSpan(features, features))
                        : Gaussian(l, t, dl, s.Sigma);
                    var mu = new ReadOnlySpan<float>(S, so + i * 2 * latent, latent);
                    var logvar = new ReadOnlySpan<float>(S, so + i * 2 * latent + latent, latent);
                    var ds = new Span<float>(DS, dso + i * 2 * latent, 2 * latent);
                    double kl = KullbackLeibler(mu, logvar, s.Beta, ds, scratch.AsSpan(2 * features, latent));
                    P[po + i] = (float)(recon + s.Beta * kl);
                    if (K != null) K[ko + i] = (float)kl;
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        });
    }

    /// <summary>sum_d max(l,0) - l t + log(1 + exp(-|l|)); dl = sigmoid(l) - t, from the same exp(-|l|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Bernoulli(ReadOnlySpan<float> l, ReadOnlySpan<float> t, Span<float> dl, Span<float> e, Span<float> softplus)
    {
        TensorPrimitives.Abs(l, e);
        TensorPrimitives.Negate(e, e);
        TensorPrimitives.Exp(e, e);
        int n = l.Length, i = 0;
        ref float lr = ref MemoryMarshal.GetReference(l);
        ref float tr = ref MemoryMarshal.GetReference(t);
        ref float dr = ref MemoryMarshal.GetReference(dl);
        ref float er = ref MemoryMarshal.GetReference(e);
        ref float sr = ref MemoryMarshal.GetReference(softplus);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var lv = Vector256.LoadUnsafe(ref lr, (nuint)i);
                var ev = Vector256.LoadUnsafe(ref er, (nuint)i);
                var onePlus = Vector256<float>.One + ev;
                var sigmoid = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(lv, Vector256<float>.Zero),
                    Vector256<float>.One, ev) / onePlus;
                (sigmoid - Vector256.LoadUnsafe(ref tr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
                onePlus.StoreUnsafe(ref sr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float ev = e[i], onePlus = 1f + ev;
            dl[i] = (l[i] >= 0 ? 1f : ev) / onePlus - t[i];
            softplus[i] = onePlus;
        }
        TensorPrimitives.Log(softplus, softplus);
        return SumBernoulliTerms(l, t, softplus);
    }

    /// <summary>
    /// sum_d max(l, 0) − l t + softplus_d, in double, with softplus_d = log(1 + exp(−|l_d|)) already
    /// computed: the stable Bernoulli −log p(x|z), shared by the loss and the importance weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double SumBernoulliTerms(ReadOnlySpan<float> l, ReadOnlySpan<float> t, ReadOnlySpan<float> softplus)
    {
        int n = l.Length, i = 0;
        ref float lr = ref MemoryMarshal.GetReference(l);
        ref float tr = ref MemoryMarshal.GetReference(t);
        ref float sr = ref MemoryMarshal.GetReference(softplus);
        var sum0 = Vector256<double>.Zero;
        var sum1 = Vector256<double>.Zero;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var lv = Vector256.LoadUnsafe(ref lr, (nuint)i);
                var term = Vector256.Max(lv, Vector256<float>.Zero) - lv * Vector256.LoadUnsafe(ref tr, (nuint)i)
                           + Vector256.LoadUnsafe(ref sr, (nuint)i);
                var (lower, upper) = Vector256.Widen(term);
                sum0 += lower;
                sum1 += upper;
            }
        }
        double sum = Vector256.Sum(sum0 + sum1);
        for (; i < n; i++) sum += MathF.Max(l[i], 0f) - l[i] * t[i] + softplus[i];
        return sum;
    }

    /// <summary>sum_d (x - l)^2 / (2 sigma^2) + log sigma + log(2 pi)/2; dl = (l - x) / sigma^2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Gaussian(ReadOnlySpan<float> l, ReadOnlySpan<float> t, Span<float> dl, float sigma)
    {
        float invVar = 1f / (sigma * sigma);
        float constant = MathF.Log(sigma) + HalfLog2Pi;
        int n = l.Length, i = 0;
        ref float lr = ref MemoryMarshal.GetReference(l);
        ref float tr = ref MemoryMarshal.GetReference(t);
        ref float dr = ref MemoryMarshal.GetReference(dl);
        var sum0 = Vector256<double>.Zero;
        var sum1 = Vector256<double>.Zero;
        if (Vector256.IsHardwareAccelerated)
        {
            var inv = Vector256.Create(invVar);
            var half = Vector256.Create(0.5f);
            for (; i + 8 <= n; i += 8)
            {
                var r = Vector256.LoadUnsafe(ref lr, (nuint)i) - Vector256.LoadUnsafe(ref tr, (nuint)i);
                (r * inv).StoreUnsafe(ref dr, (nuint)i);
                var (lower, upper) = Vector256.Widen(half * r * r * inv);
                sum0 += lower;
                sum1 += upper;
            }
        }
        double sum = Vector256.Sum(sum0 + sum1);
        for (; i < n; i++)
        {
            float r = l[i] - t[i];
            dl[i] = r * invVar;
            sum += 0.5f * r * r * invVar;
        }
        return sum + (double)constant * n;
    }

    /// <summary>KL(N(mu, exp(logvar)) || N(0, I)) of one sample; writes beta * its gradient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double KullbackLeibler(ReadOnlySpan<float> mu, ReadOnlySpan<float> logvar, float beta, Span<float> ds, Span<float> expLogvar)
    {
        TensorPrimitives.Exp(logvar, expLogvar);
        int latent = mu.Length;
        double kl = 0;
        for (int j = 0; j < latent; j++)
        {
            float m = mu[j], v = logvar[j], ev = expLogvar[j];
            kl += -0.5 * ((double)1f + v - (double)m * m - ev);
            ds[j] = beta * m;
            ds[latent + j] = beta * 0.5f * (ev - 1f);
        }
        return kl;
    }
}
