using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The scalars of a loss launch, as one kernel argument.</summary>
internal readonly struct LossArgs
{
    public LossArgs(LossSettings s, int rows, int features, int latent, bool hasKl)
    {
        Rows = rows; Features = features; Latent = latent; Likelihood = (int)s.Likelihood; Beta = s.Beta;
        InvVar = 1f / (s.Sigma * s.Sigma);
        GaussianConstant = MathF.Log(s.Sigma) + HalfLog2Pi;
        HasKl = hasKl ? 1 : 0;
    }

    private const float HalfLog2Pi = 0.918938533204672742f;

    public readonly int Rows, Features, Latent, Likelihood;
    public readonly float Beta, InvVar, GaussianConstant;
    public readonly int HasKl;
}

/// <summary>
/// The fused VAE loss: one group per sample, samples grid-strided over the
/// groups. Each thread walks a strided share of the sample's features (writing dlogits as it goes) and
/// of its latent units (writing the KL gradient), then the group reduces both partial sums along a
/// fixed tree in shared memory: one pass, no atomics, the same bits every run on a device.
///
/// Bernoulli with logits: recon = max(l, 0) - l x + log(1 + exp(-|l|)), d/dl = sigmoid(l) - x.
/// Gaussian with fixed sigma: recon = (x - l)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2, d/dl = (l - x) / sigma^2.
/// KL to N(0, I) = -1/2 sum (1 + logvar - mu^2 - exp(logvar)); d/dmu = mu, d/dlogvar = (exp(logvar) - 1) / 2.
/// </summary>
internal static class IlgpuLossKernel
{
    /// <summary>The largest group (the shared arrays' length); groups are a power of two in size.</summary>
    public const int MaxGroup = 256;

    /// <summary>Groups up to this size sum their partials in one thread instead of a tree.</summary>
    public const int SequentialSumLimit = 32;

    private const int Bernoulli = (int)Likelihood.Bernoulli;

    /// <summary>perSampleKl is written only when args.HasKl (otherwise any valid view).</summary>
    public static void Loss(ArrayView<float> logits, ArrayView<float> x, ArrayView<float> stats, ArrayView<float> perSampleLoss,
        ArrayView<float> dlogits, ArrayView<float> dstats, ArrayView<float> perSampleKl, LossArgs args)
    {
        // Two halves, alternating between a group's samples: a sample's shares are written only after
        // the barriers of the one before, so thread 0 may still read the previous sample's half.
        var reconShare = SharedMemory.Allocate<float>(2 * MaxGroup);
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
                float gradient;
                if (args.Likelihood == Bernoulli)
                {
                    // One exp serves both terms: log(1 + e^-|l|), and sigmoid(l) = (l >= 0 ? 1 : e) / (1 + e).
                    float e = MathF.Exp(-MathF.Abs(l));
                    recon += MathF.Max(l, 0f) - l * target + MathF.Log(1f + e);
                    gradient = (l >= 0f ? 1f : e) / (1f + e) - target;
                }
                else
                {
                    float r = l - target;
                    recon += 0.5f * r * r * args.InvVar + args.GaussianConstant;
                    gradient = r * args.InvVar;
                }
                dlogits[rowStart + d] = gradient;
            }

            float kl = 0f;
            int statsRow = i * 2 * latent;
            for (int j = t; j < latent; j += size)
            {
                float mu = stats[statsRow + j];
                float logvar = stats[statsRow + latent + j];
                float variance = MathF.Exp(logvar);
                kl += -0.5f * (1f + logvar - mu * mu - variance);
                dstats[statsRow + j] = args.Beta * mu;
                dstats[statsRow + latent + j] = args.Beta * 0.5f * (variance - 1f);
            }

            reconShare[half + t] = recon;
            klShare[half + t] = kl;
            Group.Barrier();
            if (size <= SequentialSumLimit)
            {
                // A warp or less (ILGPU's CPU accelerator): one thread adds the partial sums in order,
                // since there every barrier is an OS wait of every thread.
                if (t == 0)
                {
                    float reconTotal = 0f, klTotal = 0f;
                    for (int r = 0; r < size; r++)
                    {
                        reconTotal += reconShare[half + r];
                        klTotal += klShare[half + r];
                    }
                    Write(perSampleLoss, perSampleKl, args, i, reconTotal, klTotal);
                }
            }
            else
            {
                for (int stride = size / 2; stride > 0; stride >>= 1)
                {
                    if (t < stride)
                    {
                        reconShare[half + t] += reconShare[half + t + stride];
                        klShare[half + t] += klShare[half + t + stride];
                    }
                    Group.Barrier();
                }
                if (t == 0) Write(perSampleLoss, perSampleKl, args, i, reconShare[half], klShare[half]);
            }
        }
    }

    private static void Write(ArrayView<float> perSampleLoss, ArrayView<float> perSampleKl, LossArgs args, int i, float recon, float kl)
    {
        perSampleLoss[i] = recon + args.Beta * kl;
        if (args.HasKl != 0) perSampleKl[i] = kl;
    }
}
