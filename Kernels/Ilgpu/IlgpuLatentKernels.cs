using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The scalars of a Gaussian KL launch, as one kernel argument.</summary>
internal readonly struct KlArgs
{
    public KlArgs(int rows, int latent, float weight, bool hasKl)
    {
        Rows = rows; Latent = latent; Weight = weight; HasKl = hasKl ? 1 : 0;
    }

    public readonly int Rows, Latent, HasKl;
    public readonly float Weight;
}

/// <summary>
/// The kernels of the latent-hierarchy and GAN ops, grid-strided (a few groups cover any batch, which is
/// what ILGPU's CPU accelerator needs). The element rules are the CPU backend's own (<see cref="LatentMath"/>),
/// so ILGPU's CPU accelerator gives its bits.
/// </summary>
internal static class IlgpuLatentKernels
{
    /// <summary>
    /// The Gaussian KL, one thread per row: the thread adds the row's terms in float in column order (the
    /// CPU backend's order, so its sum bit for bit, and the same every run without a reduction tree), and
    /// accumulates the row's weighted gradients as it goes. Rows are a batch and latent a few hundred at
    /// most, so a row per thread is enough parallelism for an op this small.
    /// perSampleKl is written only when args.HasKl (otherwise any valid view).
    /// </summary>
    public static void GaussianKl(ArrayView<float> q, ArrayView<float> p, ArrayView<float> perSampleLoss, ArrayView<float> dq,
        ArrayView<float> dp, ArrayView<float> perSampleKl, KlArgs args)
    {
        int latent = args.Latent;
        float weight = args.Weight;
        for (int i = Grid.GlobalIndex.X; i < args.Rows; i += Grid.DimX * Group.DimX)
        {
            int row = i * 2 * latent;
            float twice = 0f;
            for (int j = 0; j < latent; j++)
            {
                int mu = row + j, logvar = mu + latent;
                var (term, dMu, dLq, dLp) = LatentMath.KlTerm(q[mu], q[logvar], p[mu], p[logvar]);
                twice += term;
                dq[mu] += weight * dMu;
                dq[logvar] += weight * dLq;
                dp[mu] -= weight * dMu;
                dp[logvar] += weight * dLp;
            }
            float kl = 0.5f * twice;
            perSampleLoss[i] += weight * kl;
            if (args.HasKl != 0) perSampleKl[i] = kl;
        }
    }

    /// <summary>The precision-weighted merge, one thread per (row, latent unit): merged mu and logvar overwritten.</summary>
    public static void PrecisionMerge(ArrayView<float> bottomUp, ArrayView<float> topDown, ArrayView<float> merged, int rows, int latent)
    {
        int count = rows * latent;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int i = e / latent, j = e - i * latent;
            int mu = i * 2 * latent + j, logvar = mu + latent;
            var (m, s) = LatentMath.Merge(bottomUp[mu], bottomUp[logvar], topDown[mu], topDown[logvar]);
            merged[mu] = m;
            merged[logvar] = s;
        }
    }

    /// <summary>The merge's backward, one thread per (row, latent unit), accumulated into both input gradients.</summary>
    public static void PrecisionMergeBackward(ArrayView<float> bottomUp, ArrayView<float> topDown, ArrayView<float> dMerged,
        ArrayView<float> dBottomUp, ArrayView<float> dTopDown, int rows, int latent)
    {
        int count = rows * latent;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int i = e / latent, j = e - i * latent;
            int mu = i * 2 * latent + j, logvar = mu + latent;
            var (m1, l1, m2, l2) = LatentMath.MergeBackward(bottomUp[mu], bottomUp[logvar], topDown[mu], topDown[logvar],
                dMerged[mu], dMerged[logvar]);
            dBottomUp[mu] += m1;
            dBottomUp[logvar] += l1;
            dTopDown[mu] += m2;
            dTopDown[logvar] += l2;
        }
    }

    /// <summary>The logistic loss and its gradient, one thread per logit: both overwritten.</summary>
    public static void LogisticLoss(ArrayView<float> logits, ArrayView<float> perSampleLoss, ArrayView<float> dlogits, float target, float scale)
    {
        int rows = logits.IntLength;
        for (int i = Grid.GlobalIndex.X; i < rows; i += Grid.DimX * Group.DimX)
        {
            var (loss, gradient) = LatentMath.Logistic(logits[i], target, scale);
            perSampleLoss[i] = loss;
            dlogits[i] = gradient;
        }
    }
}
