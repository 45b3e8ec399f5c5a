namespace IlgpuVae.Kernels;

/// <summary>
/// The ops of latent hierarchies and adversarial training: the KL divergence between two diagonal
/// Gaussians given as stats (a hierarchical VAE's KL of each layer's posterior to its learned prior), the
/// Ladder VAE's precision-weighted merge of a bottom-up and a top-down Gaussian (Sønderby et al. 2016,
/// eq. 17-19) with its backward, and the logistic (binary cross-entropy) losses of a GAN's discriminator
/// logits. Stats are rows x (2*latent) as everywhere in the contract: mu in columns [0, latent), logvar in
/// [latent, 2*latent).
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// Per row i, KL_i = KL(N(mq, exp(lq)) || N(mp, exp(lp))) = 1/2 sum_j [lp − lq + (exp(lq) + (mq − mp)^2) / exp(lp) − 1],
    /// with (mq | lq) row i of q and (mp | lp) row i of p. Accumulates: perSampleLoss[i] += weight * KL_i,
    /// dq += weight * dKL/dq and dp += weight * dKL/dp, where dKL/dmq = (mq − mp) / exp(lp),
    /// dKL/dlq = (exp(lq) / exp(lp) − 1) / 2, dKL/dmp = −dKL/dmq and
    /// dKL/dlp = (1 − (exp(lq) + (mq − mp)^2) / exp(lp)) / 2. perSampleKl, when not null, is overwritten
    /// with the unweighted KL_i.
    /// <para>
    /// exp(lq) / exp(lp) is computed as exp(lq − lp) and 1 / exp(lp) as exp(−lp): neither variance is
    /// formed, so equal logvars far from 0 give a ratio of 1 rather than 0/0 or inf/inf, and every result
    /// is finite while lq − lp and −lp stay below 88 (float's exp overflows beyond). Each row's terms are
    /// added in float in column order, then halved.
    /// </para>
    /// q and p may be the same view (a KL of 0); no output may overlap an input or another output.
    /// </summary>
    public void GaussianKl(DeviceView<float> q, DeviceView<float> p, int rows, int latent, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dq, DeviceView<float> dp, DeviceView<float> perSampleKl = default)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        if (!(weight >= 0) || float.IsInfinity(weight))
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "weight must be finite and >= 0");
        RequireLength(q, 2L * rows * latent, nameof(q), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(p, 2L * rows * latent, nameof(p), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(perSampleLoss, rows, nameof(perSampleLoss), $"{rows}");
        RequireLength(dq, 2L * rows * latent, nameof(dq), $"{rows}x{2 * latent}");
        RequireLength(dp, 2L * rows * latent, nameof(dp), $"{rows}x{2 * latent}");
        if (!perSampleKl.IsNull) RequireLength(perSampleKl, rows, nameof(perSampleKl), $"{rows}");
        RequireNoOverlap(q, nameof(q), dq, nameof(dq)); RequireNoOverlap(p, nameof(p), dq, nameof(dq));
        RequireNoOverlap(q, nameof(q), dp, nameof(dp)); RequireNoOverlap(p, nameof(p), dp, nameof(dp));
        RequireNoOverlap(dq, nameof(dq), dp, nameof(dp));
        RequireNoOverlap(q, nameof(q), perSampleLoss, nameof(perSampleLoss)); RequireNoOverlap(p, nameof(p), perSampleLoss, nameof(perSampleLoss));
        RequireNoOverlap(dq, nameof(dq), perSampleLoss, nameof(perSampleLoss)); RequireNoOverlap(dp, nameof(dp), perSampleLoss, nameof(perSampleLoss));
        if (!perSampleKl.IsNull)
        {
            RequireNoOverlap(q, nameof(q), perSampleKl, nameof(perSampleKl)); RequireNoOverlap(p, nameof(p), perSampleKl, nameof(perSampleKl));
            RequireNoOverlap(dq, nameof(dq), perSampleKl, nameof(perSampleKl)); RequireNoOverlap(dp, nameof(dp), perSampleKl, nameof(perSampleKl));
            RequireNoOverlap(perSampleLoss, nameof(perSampleLoss), perSampleKl, nameof(perSampleKl));
        }
        GaussianKlCore(q, p, rows, latent, weight, perSampleLoss, dq, dp, perSampleKl);
    }

    /// <summary>
    /// The Ladder VAE's precision-weighted combination of two Gaussians given as stats, element by element:
    /// with (m1 | l1) from bottomUp and (m2 | l2) from topDown, precisions a = exp(−l1) and b = exp(−l2),
    /// merged logvar = −log(a + b) and merged mu = (m1 a + m2 b) / (a + b). Computed without forming a
    /// precision: merged logvar = −logaddexp(−l1, −l2) = min(l1, l2) − log(1 + exp(−|l1 − l2|)), and the
    /// weights w1 = a / (a + b) = sigmoid(l2 − l1), w2 = b / (a + b) = sigmoid(l1 − l2), both from that one
    /// exp(−|l1 − l2|) (so the smaller weight keeps its relative accuracy; w1 + w2 = 1 within an ulp), and
    /// mu = w1 m1 + w2 m2. Finite for any finite logvars. merged is overwritten and must not overlap an input;
    /// bottomUp and topDown may be the same view.
    /// </summary>
    public void PrecisionMerge(DeviceView<float> bottomUp, DeviceView<float> topDown, int rows, int latent, DeviceView<float> merged)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        RequireLength(bottomUp, 2L * rows * latent, nameof(bottomUp), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(topDown, 2L * rows * latent, nameof(topDown), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(merged, 2L * rows * latent, nameof(merged), $"{rows}x{2 * latent} (mu | logvar)");
        RequireNoOverlap(bottomUp, nameof(bottomUp), merged, nameof(merged));
        RequireNoOverlap(topDown, nameof(topDown), merged, nameof(merged));
        PrecisionMergeCore(bottomUp, topDown, rows, latent, merged);
    }

    /// <summary>
    /// The backward of <see cref="PrecisionMerge"/>: with dm, ds the gradients of the merged mu and logvar
    /// (dMerged, rows x (2*latent)) and w1, w2 the merge's weights,
    /// dm1 = dm w1, dm2 = dm w2, dl1 = ds w1 − dm (m1 − m2) w1 w2, dl2 = ds w2 + dm (m1 − m2) w1 w2
    /// (dw1/dl1 = −w1 w2, ds/dl1 = w1). Accumulates: dBottomUp += (dm1 | dl1) and dTopDown += (dm2 | dl2),
    /// since each input also takes gradients from elsewhere (its own KL, the layer that made it). The
    /// gradient views must not overlap each other or an input.
    /// </summary>
    public void PrecisionMergeBackward(DeviceView<float> bottomUp, DeviceView<float> topDown, DeviceView<float> dMerged, int rows, int latent,
        DeviceView<float> dBottomUp, DeviceView<float> dTopDown)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        RequireLength(bottomUp, 2L * rows * latent, nameof(bottomUp), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(topDown, 2L * rows * latent, nameof(topDown), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(dMerged, 2L * rows * latent, nameof(dMerged), $"{rows}x{2 * latent}");
        RequireLength(dBottomUp, 2L * rows * latent, nameof(dBottomUp), $"{rows}x{2 * latent}");
        RequireLength(dTopDown, 2L * rows * latent, nameof(dTopDown), $"{rows}x{2 * latent}");
        RequireNoOverlap(bottomUp, nameof(bottomUp), dBottomUp, nameof(dBottomUp));
        RequireNoOverlap(topDown, nameof(topDown), dBottomUp, nameof(dBottomUp));
        RequireNoOverlap(dMerged, nameof(dMerged), dBottomUp, nameof(dBottomUp));
        RequireNoOverlap(bottomUp, nameof(bottomUp), dTopDown, nameof(dTopDown));
        RequireNoOverlap(topDown, nameof(topDown), dTopDown, nameof(dTopDown));
        RequireNoOverlap(dMerged, nameof(dMerged), dTopDown, nameof(dTopDown));
        RequireNoOverlap(dBottomUp, nameof(dBottomUp), dTopDown, nameof(dTopDown));
        PrecisionMergeBackwardCore(bottomUp, topDown, dMerged, rows, latent, dBottomUp, dTopDown);
    }

    /// <summary>
    /// A GAN's loss on its discriminator's logits, one logit per row: perSampleLoss[i] = scale * BCE(l_i, target)
    /// with BCE(l, t) = max(l, 0) − l t + log(1 + exp(−|l|)) (the stable form of <see cref="VaeLoss"/>), and
    /// dlogits[i] = scale * (sigmoid(l_i) − target), sigmoid from the same exp(−|l|); both overwritten. The
    /// discriminator's loss is target 1 on real rows and target 0 on generated ones (scale 1); the
    /// non-saturating generator loss is target 1, scale 1; the minimax one, log(1 − D(G(z))), target 0, scale −1.
    /// target must be in [0, 1] and scale finite; the outputs must not overlap logits or each other.
    /// </summary>
    public void LogisticLoss(DeviceView<float> logits, int rows, float target, float scale, DeviceView<float> perSampleLoss, DeviceView<float> dlogits)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows));
        if (!(target >= 0f && target <= 1f))
            throw new ArgumentOutOfRangeException(nameof(target), target, "target must be in [0, 1]");
        if (!float.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be finite");
        RequireLength(logits, rows, nameof(logits), $"{rows}");
        RequireLength(perSampleLoss, rows, nameof(perSampleLoss), $"{rows}");
        RequireLength(dlogits, rows, nameof(dlogits), $"{rows}");
        RequireNoOverlap(logits, nameof(logits), perSampleLoss, nameof(perSampleLoss));
        RequireNoOverlap(logits, nameof(logits), dlogits, nameof(dlogits));
        RequireNoOverlap(perSampleLoss, nameof(perSampleLoss), dlogits, nameof(dlogits));
        LogisticLossCore(logits, rows, target, scale, perSampleLoss, dlogits);
    }

    /// <summary>Throws when b shares an element with a (both windows of one buffer).</summary>
    private static void RequireNoOverlap<T>(DeviceView<T> a, string aName, DeviceView<T> b, string bName) where T : unmanaged
    {
        if (ReferenceEquals(a.Buffer, b.Buffer) && a.Length > 0 && b.Length > 0
            && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length)
            throw new ArgumentException($"{bName} {b} overlaps {aName} {a}", bName);
    }

    protected abstract void GaussianKlCore(DeviceView<float> q, DeviceView<float> p, int rows, int latent, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dq, DeviceView<float> dp, DeviceView<float> perSampleKl);
    protected abstract void PrecisionMergeCore(DeviceView<float> bottomUp, DeviceView<float> topDown, int rows, int latent, DeviceView<float> merged);
    protected abstract void PrecisionMergeBackwardCore(DeviceView<float> bottomUp, DeviceView<float> topDown, DeviceView<float> dMerged,
        int rows, int latent, DeviceView<float> dBottomUp, DeviceView<float> dTopDown);
    protected abstract void LogisticLossCore(DeviceView<float> logits, int rows, float target, float scale,
        DeviceView<float> perSampleLoss, DeviceView<float> dlogits);
}
