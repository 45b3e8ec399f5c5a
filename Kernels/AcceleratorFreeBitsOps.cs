namespace IlgpuVae.Kernels;

/// <summary>
/// Free bits (Kingma et al. 2016, "Improved Variational Inference with Inverse Autoregressive Flow"): a
/// floor under each latent dimension's KL, averaged over the batch, so that the optimiser gains nothing by
/// pushing a dimension's posterior onto the prior below the floor — a remedy for posterior collapse.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// Applies the floor lambda (nats per dimension) to the KL term that <see cref="VaeLoss"/> has just
    /// added with weight (its beta) and whose gradient it has just written to dstats; call it before
    /// <see cref="SampleLatentBackward"/> adds the decoder's part. With kl_ij = -1/2 (1 + logvar_ij -
    /// mu_ij^2 - exp(logvar_ij)) and the batch mean KL_j = (1/rows) sum_i kl_ij (summed in row order):
    /// freed[j] = 1 when KL_j &lt; lambda, else 0 (overwritten); for every freed j and row i,
    /// perSampleLoss[i] += weight (lambda - kl_ij) (the row's share of the floor replacing its KL) and
    /// dstats[i, j] = dstats[i, latent + j] = 0 (a constant has no gradient). Dimensions above the floor
    /// are left as VaeLoss wrote them.
    /// </summary>
    public void FreeBits(DeviceView<float> stats, int rows, int latent, float lambda, float weight, DeviceView<float> perSampleLoss,
        DeviceView<float> dstats, DeviceView<float> freed)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        if (!(lambda >= 0) || !float.IsFinite(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "the free-bits floor must be finite and >= 0");
        if (!(weight >= 0) || !float.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "the KL weight must be finite and >= 0");
        RequireLength(stats, 2L * rows * latent, nameof(stats), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(perSampleLoss, rows, nameof(perSampleLoss), $"{rows}");
        RequireLength(dstats, 2L * rows * latent, nameof(dstats), $"{rows}x{2 * latent}");
        RequireLength(freed, latent, nameof(freed), $"{latent}");
        foreach (var (view, name) in new[] { (perSampleLoss, nameof(perSampleLoss)), (dstats, nameof(dstats)), (freed, nameof(freed)) })
            if (ReferenceEquals(view.Buffer, stats.Buffer) && view.Offset < stats.Offset + stats.Length && stats.Offset < view.Offset + view.Length)
                throw new ArgumentException($"{name} {view} overlaps stats {stats}", name);
        FreeBitsCore(stats, rows, latent, lambda, weight, perSampleLoss, dstats, freed);
    }

    protected abstract void FreeBitsCore(DeviceView<float> stats, int rows, int latent, float lambda, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dstats, DeviceView<float> freed);
}

/// <summary>The element rule of free bits, shared by the CPU backend and the kernels so both give the same bits.</summary>
public static class FreeBitsMath
{
    /// <summary>One element's KL from N(0, 1): -1/2 (1 + logvar - mu^2 - exp(logvar)).</summary>
    public static float Kl(float mu, float logvar) => -0.5f * (1f + logvar - mu * mu - MathF.Exp(logvar));
}
