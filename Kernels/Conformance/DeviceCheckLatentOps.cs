namespace IlgpuVae.Kernels.Conformance;

/// <summary>The checks of the latent-hierarchy and GAN ops (Gaussian KL, precision-weighted merge, logistic loss).</summary>
public static partial class DeviceCheck
{
    /// <summary>
    /// A posterior's KL to a learned prior, accumulated onto losses and gradients already there, the
    /// per-sample KL overwritten. With extremes, logvars of ±20 (ratios of exp(±40)) in every row.
    /// </summary>
    private static DeviceCheckResult GaussianKl(CheckRun s, bool extremes)
    {
        const int rows = 41, latent = 20;
        var rng = s.NextRandom();
        var qValues = CheckRun.Uniform(rng, 2 * rows * latent, -3f, 3f);
        var pValues = CheckRun.Uniform(rng, 2 * rows * latent, -3f, 3f);
        if (extremes)
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < latent; j += 3)
            {
                qValues[i * 2 * latent + latent + j] = (i + j) % 2 == 0 ? 20f : -20f;
                pValues[i * 2 * latent + latent + j] = (i + j) % 4 < 2 ? 20f : -20f;
            }
        using var q = s.Put(qValues);
        using var p = s.Put(pValues);
        using var loss = s.Put(CheckRun.Uniform(rng, rows, 50f, 300f));
        using var dq = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f));
        using var dp = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f));
        using var kl = s.Put(new float[rows]);
        s.Device.GaussianKl(q.D, p.D, rows, latent, 0.7f, loss.D, dq.D, dp.D, kl.D);
        s.Reference.GaussianKl(q.R, p.R, rows, latent, 0.7f, loss.R, dq.R, dp.R, kl.R);
        return Combine(extremes ? "gaussian kl extreme logvars" : "gaussian kl", s.Same("loss", loss, LossTolerance),
            s.Same("dq", dq, LossTolerance), s.Same("dp", dp, LossTolerance), s.Same("kl", kl, LossTolerance));
    }

    /// <summary>Bottom-up and top-down stats of a ladder layer, the logvars up to 8 apart (weights from 3e-4 to 1).</summary>
    private static DeviceCheckResult PrecisionMerge(CheckRun s)
    {
        const int rows = 41, latent = 20;
        var rng = s.NextRandom();
        using var bottomUp = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -4f, 4f));
        using var topDown = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -4f, 4f));
        using var merged = s.Put(new float[2 * rows * latent]);
        s.Device.PrecisionMerge(bottomUp.D, topDown.D, rows, latent, merged.D);
        s.Reference.PrecisionMerge(bottomUp.R, topDown.R, rows, latent, merged.R);
        return s.Same("precision merge", merged, ElementwiseTolerance);
    }

    /// <summary>The merge's backward, accumulated onto the gradients both inputs already hold.</summary>
    private static DeviceCheckResult PrecisionMergeBackward(CheckRun s)
    {
        const int rows = 41, latent = 20;
        var rng = s.NextRandom();
        using var bottomUp = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -4f, 4f));
        using var topDown = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -4f, 4f));
        using var dMerged = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f));
        using var dBottomUp = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f));
        using var dTopDown = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f));
        s.Device.PrecisionMergeBackward(bottomUp.D, topDown.D, dMerged.D, rows, latent, dBottomUp.D, dTopDown.D);
        s.Reference.PrecisionMergeBackward(bottomUp.R, topDown.R, dMerged.R, rows, latent, dBottomUp.R, dTopDown.R);
        return Combine("precision merge backward", s.Same("dBottomUp", dBottomUp, ElementwiseTolerance),
            s.Same("dTopDown", dTopDown, ElementwiseTolerance));
    }

    /// <summary>Discriminator logits, some of them ±100 (the stable form's extremes).</summary>
    private static DeviceCheckResult LogisticLoss(CheckRun s, string name, float target, float scale)
    {
        const int rows = 129;
        var values = CheckRun.Uniform(s.NextRandom(), rows, -8f, 8f);
        for (int i = 0; i < rows; i += 17) values[i] = i % 2 == 0 ? 100f : -100f;
        using var logits = s.Put(values);
        using var loss = s.Put(new float[rows]);
        using var dlogits = s.Put(new float[rows]);
        s.Device.LogisticLoss(logits.D, rows, target, scale, loss.D, dlogits.D);
        s.Reference.LogisticLoss(logits.R, rows, target, scale, loss.R, dlogits.R);
        return Combine(name, s.Same("loss", loss, LossTolerance), s.Same("dlogits", dlogits, LossTolerance));
    }
}
