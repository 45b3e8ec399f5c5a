namespace IlgpuVae.Kernels;

/// <summary>
/// The ops of importance-sampled evaluation (Burda, Grosse, Salakhutdinov 2016: log p(x) ≈ logsumexp_k
/// log w_k − log K): the per-sample log weight, and a running logsumexp that consumes the K samples of
/// each image in chunks, so K never has to fit one launch.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// Per row i (one sample z_i ~ q(z|x_i) = N(mu_i, exp(logvar_i)), drawn as z = mu + exp(logvar/2) eps):
    /// logWeights[i] = log p(x_i|z_i) + log p(z_i) − log q(z_i|x_i)
    ///              = −recon(x_i | logits_i) + sum_j (eps_ij^2 − z_ij^2 + logvar_ij) / 2,
    /// (the log(2 pi) terms of the prior and the posterior cancel), and
    /// negativeElbo[i] = recon(x_i | logits_i) + KL(N(mu_i, exp(logvar_i)) || N(0, I)),
    /// the one-sample negative ELBO with the analytic KL (beta = 1 whatever settings.Beta says: the bound,
    /// not the training objective). recon is <see cref="VaeLoss"/>'s: Bernoulli with logits or Gaussian with
    /// fixed settings.Sigma. stats is rows x (2*latent), mu | logvar, as <see cref="SampleLatent"/> reads it.
    /// </summary>
    public void ImportanceWeights(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        DeviceView<float> eps, DeviceView<float> z, int rows, int features, int latent,
        DeviceView<float> logWeights, DeviceView<float> negativeElbo)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(features, nameof(features)); RequirePositive(latent, nameof(latent));
        if (settings.Likelihood is not (Likelihood.Bernoulli or Likelihood.Gaussian))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Likelihood, "unknown likelihood");
        if (settings.Likelihood == Likelihood.Gaussian && !(settings.Sigma > 0 && float.IsFinite(settings.Sigma)))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Sigma, "Gaussian sigma must be finite and > 0");
        RequireLength(logits, (long)rows * features, nameof(logits), $"{rows}x{features}");
        RequireLength(x, (long)rows * features, nameof(x), $"{rows}x{features}");
        RequireLength(stats, 2L * rows * latent, nameof(stats), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(eps, (long)rows * latent, nameof(eps), $"{rows}x{latent}");
        RequireLength(z, (long)rows * latent, nameof(z), $"{rows}x{latent}");
        RequireLength(logWeights, rows, nameof(logWeights), $"{rows}");
        RequireLength(negativeElbo, rows, nameof(negativeElbo), $"{rows}");
        ImportanceWeightsCore(settings, logits, x, stats, eps, z, rows, features, latent, logWeights, negativeElbo);
    }

    /// <summary>
    /// A running, numerically stable logsumexp over the columns of a rows x cols matrix, accumulated into
    /// per-row state: with m = runningMax[i], s = runningSum[i] (so that the logsumexp so far is m + log s),
    /// m' = max(m, max_j values[i, j]) and s' = s exp(m − m') + sum_j exp(values[i, j] − m'). Start a row
    /// with m = −inf, s = 0 (<see cref="Fill"/>), feed it any number of chunks, read m + log s. A value of
    /// −inf is a weight of zero (a row of only −inf keeps m = −inf, s = 0); values must not be NaN or +inf.
    /// </summary>
    public void LogSumExpRows(DeviceView<float> values, int rows, int cols, DeviceView<float> runningMax, DeviceView<float> runningSum)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(cols, nameof(cols));
        RequireLength(values, (long)rows * cols, nameof(values), $"{rows}x{cols}");
        RequireLength(runningMax, rows, nameof(runningMax), $"{rows}");
        RequireLength(runningSum, rows, nameof(runningSum), $"{rows}");
        if (ReferenceEquals(runningMax.Buffer, runningSum.Buffer)
            && runningMax.Offset < runningSum.Offset + rows && runningSum.Offset < runningMax.Offset + rows)
            throw new ArgumentException($"runningMax {runningMax} and runningSum {runningSum} overlap", nameof(runningSum));
        LogSumExpRowsCore(values, rows, cols, runningMax, runningSum);
    }

    protected abstract void ImportanceWeightsCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        DeviceView<float> eps, DeviceView<float> z, int rows, int features, int latent, DeviceView<float> logWeights, DeviceView<float> negativeElbo);
    protected abstract void LogSumExpRowsCore(DeviceView<float> values, int rows, int cols, DeviceView<float> runningMax, DeviceView<float> runningSum);
}
