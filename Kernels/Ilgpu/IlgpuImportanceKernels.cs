using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The scalars of an importance-weight launch, as one kernel argument.</summary>
internal readonly struct ImportanceArgs
{
    public ImportanceArgs(LossSettings s, int rows, int features, int latent)
    {
        Rows = rows; Features = features; Latent = latent; Likelihood = (int)s.Likelihood;
        InvVar = 1f / (s.Sigma * s.Sigma);
        GaussianConstant = MathF.Log(s.Sigma) + HalfLog2Pi;
    }

    private const float HalfLog2Pi = 0.918938533204672742f;

    public readonly int Rows, Features, Latent, Likelihood;
    public readonly float InvVar, GaussianConstant;
}

/// <summary>
/// The kernels of importance-sampled evaluation. Both run one group per row, rows grid-strided over the
/// groups (a few groups cover any batch, which is what ILGPU's CPU accelerator needs), and reduce a row's
/// per-thread partials along a fixed order in shared memory: no atomics, the same bits every run.
/// </summary>
internal static class IlgpuImportanceKernels
{
    /// <summary>The largest group (the shared arrays' length); groups are a power of two in size.</summary>
    public const int MaxGroup = 256;

    /// <summary>Groups up to this size combine their partials in one thread instead of a tree (barriers are OS waits on the CPU accelerator).</summary>
    public const int SequentialLimit = 32;

    private const int Bernoulli = (int)Likelihood.Bernoulli;

    /// <summary>
    /// logWeights[i] = −recon + sum_j (eps^2 − z^2 + logvar) / 2 and negativeElbo[i] = recon + KL, with
    /// recon and KL as in <see cref="IlgpuLossKernel"/> (no gradients).
    /// </summary>
    public static void Weights(ArrayView<float> logits, ArrayView<float> x, ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> logWeights, ArrayView<float> negativeElbo, ImportanceArgs args)
    {
        // Two halves, alternating between a group's rows, so thread 0 may still read the previous row's.
        var reconShare = SharedMemory.Allocate<float>(2 * MaxGroup);
        var ratioShare = SharedMemory.Allocate<float>(2 * MaxGroup);
        var klShare = SharedMemory.Allocate<float>(2 * MaxGroup);
        int t = Group.IdxX, size = Group.DimX;
        int features = args.Features, latent = args.Latent;

        // The loop bound depends on the group index only: every thread of a group reaches each barrier.
        for (int i = Grid.IdxX; i < args.Rows; i += Grid.DimX)
        {
            int half = (i / Grid.DimX) % 2 * MaxGroup;
            float recon = 0f;
            int rowStart = i * features;
            for (int d = t; d < features; d += size)
            {
                float l = logits[rowStart + d];
                float target = x[rowStart + d];
                if (args.Likelihood == Bernoulli)
                    recon += MathF.Max(l, 0f) - l * target + MathF.Log(1f + MathF.Exp(-MathF.Abs(l)));
                else
                {
                    float r = l - target;
                    recon += 0.5f * r * r * args.InvVar + args.GaussianConstant;
                }
            }

            float ratio = 0f, kl = 0f;
            int statsRow = i * 2 * latent, latentRow = i * latent;
            for (int j = t; j < latent; j += size)
            {
                float mu = stats[statsRow + j];
                float logvar = stats[statsRow + latent + j];
                float e = eps[latentRow + j], zz = z[latentRow + j];
                ratio += 0.5f * (e * e - zz * zz + logvar);
                kl += -0.5f * (1f + logvar - mu * mu - MathF.Exp(logvar));
            }

            reconShare[half + t] = recon;
            ratioShare[half + t] = ratio;
            klShare[half + t] = kl;
            Group.Barrier();
            if (size <= SequentialLimit)
            {
                if (t == 0)
                {
                    float reconTotal = 0f, ratioTotal = 0f, klTotal = 0f;
                    for (int r = 0; r < size; r++)
                    {
                        reconTotal += reconShare[half + r];
                        ratioTotal += ratioShare[half + r];
                        klTotal += klShare[half + r];
                    }
                    logWeights[i] = ratioTotal - reconTotal;
                    negativeElbo[i] = reconTotal + klTotal;
                }
            }
            else
            {
                for (int stride = size / 2; stride > 0; stride >>= 1)
                {
                    if (t < stride)
                    {
                        reconShare[half + t] += reconShare[half + t + stride];
                        ratioShare[half + t] += ratioShare[half + t + stride];
                        klShare[half + t] += klShare[half + t + stride];
                    }
                    Group.Barrier();
                }
                if (t == 0)
                {
                    logWeights[i] = ratioShare[half] - reconShare[half];
                    negativeElbo[i] = reconShare[half] + klShare[half];
                }
            }
        }
    }

    /// <summary>
    /// The running logsumexp of each row: every thread keeps an online (max, sum) over a strided share of
    /// the row's columns, the group merges the pairs in a fixed order, and thread 0 merges the result into
    /// the row's running state.
    /// </summary>
    public static void LogSumExpRows(ArrayView<float> values, ArrayView<float> runningMax, ArrayView<float> runningSum, int rows, int cols)
    {
        var maxShare = SharedMemory.Allocate<float>(2 * MaxGroup);
        var sumShare = SharedMemory.Allocate<float>(2 * MaxGroup);
        int t = Group.IdxX, size = Group.DimX;
        for (int i = Grid.IdxX; i < rows; i += Grid.DimX)
        {
            int half = (i / Grid.DimX) % 2 * MaxGroup;
            float m = float.NegativeInfinity, s = 0f;
            for (int c = t; c < cols; c += size)
            {
                float v = values[i * cols + c];
                if (v > m)
                {
                    s = s * MathF.Exp(m - v) + 1f;
                    m = v;
                }
                else if (v > float.NegativeInfinity)
                    s += MathF.Exp(v - m);
            }
            maxShare[half + t] = m;
            sumShare[half + t] = s;
            Group.Barrier();
            if (size <= SequentialLimit)
            {
                if (t == 0)
                {
                    for (int r = 1; r < size; r++) Merge(ref m, ref s, maxShare[half + r], sumShare[half + r]);
                    Finish(runningMax, runningSum, i, m, s);
                }
            }
            else
            {
                for (int stride = size / 2; stride > 0; stride >>= 1)
                {
                    if (t < stride)
                    {
                        float mm = maxShare[half + t], ss = sumShare[half + t];
                        Merge(ref mm, ref ss, maxShare[half + t + stride], sumShare[half + t + stride]);
                        maxShare[half + t] = mm;
                        sumShare[half + t] = ss;
                    }
                    Group.Barrier();
                }
                if (t == 0) Finish(runningMax, runningSum, i, maxShare[half], sumShare[half]);
            }
        }
    }

    private static void Finish(ArrayView<float> runningMax, ArrayView<float> runningSum, int i, float m, float s)
    {
        float rm = runningMax[i], rs = runningSum[i];
        Merge(ref rm, ref rs, m, s);
        runningMax[i] = rm;
        runningSum[i] = rs;
    }

    /// <summary>(m, s) ⊕= (m2, s2); a side whose max is −inf holds nothing and contributes nothing.</summary>
    private static void Merge(ref float m, ref float s, float m2, float s2)
    {
        if (m2 == float.NegativeInfinity) return;
        if (m == float.NegativeInfinity)
        {
            m = m2;
            s = s2;
            return;
        }
        if (m2 > m)
        {
            s = s * MathF.Exp(m - m2) + s2;
            m = m2;
        }
        else s += s2 * MathF.Exp(m2 - m);
    }
}
