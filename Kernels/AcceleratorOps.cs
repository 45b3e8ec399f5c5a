namespace IlgpuVae.Kernels;

/// <summary>The op set of the contract: validation here, the work in each backend's *Core.</summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// C[m,n] = act(alpha * op(A) op(B) + beta * C + bias). op(A) is m x k (A stored m x k for N, k x m
    /// for T); op(B) is k x n (B stored k x n for N, n x k for T). With beta = 0, C is not read (it may
    /// hold NaN). Row-major, densely packed.
    /// </summary>
    public void Gemm(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue = default)
    {
        ThrowIfDisposed();
        RequirePositive(m, nameof(m)); RequirePositive(n, nameof(n)); RequirePositive(k, nameof(k));
        RequireLength(a, (long)m * k, nameof(a), transA == Transpose.N ? $"{m}x{k}" : $"{k}x{m}");
        RequireLength(b, (long)k * n, nameof(b), transB == Transpose.N ? $"{k}x{n}" : $"{n}x{k}");
        RequireLength(c, (long)m * n, nameof(c), $"{m}x{n}");
        if (!epilogue.Bias.IsNull) RequireLength(epilogue.Bias, n, "epilogue.Bias", $"{n}");
        RequireActivation(epilogue.Activation);
        GemmCore(transA, transB, m, n, k, alpha, a, b, beta, c, epilogue);
    }

    /// <summary>y = f(x) element-wise; y may be x.</summary>
    public void ActivationForward(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope = 0.01f)
    {
        ThrowIfDisposed();
        RequireActivation(activation);
        Require(x, nameof(x));
        RequireLength(y, x.Length, nameof(y), "same as x");
        if (x.Length > 0) ActivationForwardCore(activation, x, y, leakySlope);
    }

    /// <summary>
    /// dx = dy * f'(x), written in terms of the forward output y (every activation here has its
    /// derivative as a function of y; for LeakyReLU the slope must be > 0). dx may be dy.
    /// </summary>
    public void ActivationBackward(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope = 0.01f)
    {
        ThrowIfDisposed();
        RequireActivation(activation);
        if (activation == Activation.LeakyRelu && !(leakySlope > 0))
            throw new ArgumentOutOfRangeException(nameof(leakySlope), leakySlope, "LeakyReLU backward needs a slope > 0");
        Require(y, nameof(y));
        RequireLength(dy, y.Length, nameof(dy), "same as y");
        RequireLength(dx, y.Length, nameof(dx), "same as y");
        if (y.Length > 0) ActivationBackwardCore(activation, y, dy, dx, leakySlope);
    }

    /// <summary>dbias[j] = sum_i dy[i, j] (column sums of a rows x cols matrix).</summary>
    public void BiasGradient(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(cols, nameof(cols));
        RequireLength(dy, (long)rows * cols, nameof(dy), $"{rows}x{cols}");
        RequireLength(dbias, cols, nameof(dbias), $"{cols}");
        BiasGradientCore(dy, rows, cols, dbias);
    }

    /// <summary>
    /// The reparameterisation, fused with the Gaussian draw. stats is rows x (2*latent): mu in columns
    /// [0, latent), logvar in [latent, 2*latent). For element e = i*latent + j: eps[e] ~ N(0,1) from
    /// Philox4x32-10 with key = (seed low, seed high), counter = (e / 4, step, stream, 0), Box–Muller on
    /// the word pairs (0,1) and (2,3), element e taking normal e % 4; z[e] = mu + exp(logvar / 2) * eps.
    /// </summary>
    public void SampleLatent(DeviceView<float> stats, int rows, int latent, RandomSource random,
        DeviceView<float> eps, DeviceView<float> z)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        RequireLength(stats, 2L * rows * latent, nameof(stats), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(eps, (long)rows * latent, nameof(eps), $"{rows}x{latent}");
        RequireLength(z, (long)rows * latent, nameof(z), $"{rows}x{latent}");
        SampleLatentCore(stats, rows, latent, random, eps, z);
    }

    /// <summary>
    /// Backward of the reparameterisation: dstats[mu] += dz; dstats[logvar] += dz * eps * exp(logvar/2) / 2.
    /// Accumulates into dstats, which <see cref="VaeLoss"/> filled with the KL gradient.
    /// </summary>
    public void SampleLatentBackward(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz,
        int rows, int latent, DeviceView<float> dstats)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        RequireLength(stats, 2L * rows * latent, nameof(stats), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(eps, (long)rows * latent, nameof(eps), $"{rows}x{latent}");
        RequireLength(dz, (long)rows * latent, nameof(dz), $"{rows}x{latent}");
        RequireLength(dstats, 2L * rows * latent, nameof(dstats), $"{rows}x{2 * latent}");
        SampleLatentBackwardCore(stats, eps, dz, rows, latent, dstats);
    }

    /// <summary>
    /// The fused VAE loss of a batch, one pass: per sample i,
    /// loss[i] = recon(x_i | logits_i) + beta * KL(N(mu_i, exp(logvar_i)) || N(0, I)), with
    /// Bernoulli recon = sum_d max(l,0) - l x + log(1 + exp(-|l|)) (stable for any logit) or
    /// Gaussian recon = sum_d (x - l)^2 / (2 sigma^2) + log sigma + log(2 pi)/2, and
    /// KL = -1/2 sum_j (1 + logvar - mu^2 - exp(logvar)).
    /// Gradients are of the summed batch loss: dlogits = d recon / d logits (overwritten);
    /// dstats = beta * d KL / d(mu | logvar) (overwritten; SampleLatentBackward adds the decoder path).
    /// perSampleKl, when not null, receives the unweighted KL of each sample.
    /// </summary>
    public void VaeLoss(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits,
        DeviceView<float> dstats, DeviceView<float> perSampleKl = default)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(features, nameof(features)); RequirePositive(latent, nameof(latent));
        if (settings.Likelihood is not (Likelihood.Bernoulli or Likelihood.Gaussian))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Likelihood, "unknown likelihood");
        if (settings.Likelihood == Likelihood.Gaussian && !(settings.Sigma > 0))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Sigma, "Gaussian sigma must be > 0");
        if (!(settings.Beta >= 0) || float.IsInfinity(settings.Beta))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Beta, "beta must be finite and >= 0");
        RequireLength(logits, (long)rows * features, nameof(logits), $"{rows}x{features}");
        RequireLength(x, (long)rows * features, nameof(x), $"{rows}x{features}");
        RequireLength(stats, 2L * rows * latent, nameof(stats), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(perSampleLoss, rows, nameof(perSampleLoss), $"{rows}");
        RequireLength(dlogits, (long)rows * features, nameof(dlogits), $"{rows}x{features}");
        RequireLength(dstats, 2L * rows * latent, nameof(dstats), $"{rows}x{2 * latent}");
        if (!perSampleKl.IsNull) RequireLength(perSampleKl, rows, nameof(perSampleKl), $"{rows}");
        VaeLossCore(settings, logits, x, stats, rows, features, latent, perSampleLoss, dlogits, dstats, perSampleKl);
    }

    /// <summary>
    /// One Adam/AdamW step over flat buffers (PyTorch's formulas): step is 1-based.
    /// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps).
    /// </summary>
    public void Adam(AdamSettings settings, int step, DeviceView<float> parameters, DeviceView<float> gradients,
        DeviceView<float> m, DeviceView<float> v)
    {
        ThrowIfDisposed();
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Adam steps count from 1");
        if (!(settings.LearningRate >= 0) || !(settings.Beta1 is >= 0 and < 1) || !(settings.Beta2 is >= 0 and < 1) || !(settings.Epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(settings), settings, "Adam needs lr >= 0, betas in [0, 1), eps > 0");
        Require(parameters, nameof(parameters));
        RequireLength(gradients, parameters.Length, nameof(gradients), "same as parameters");
        RequireLength(m, parameters.Length, nameof(m), "same as parameters");
        RequireLength(v, parameters.Length, nameof(v), "same as parameters");
        // In double, like PyTorch's Python-side bias corrections.
        float bc1 = (float)(1.0 - Math.Pow(settings.Beta1, step));
        float bc2 = (float)(1.0 - Math.Pow(settings.Beta2, step));
        if (parameters.Length > 0) AdamCore(settings, bc1, bc2, parameters, gradients, m, v);
    }

    /// <summary>
    /// Gathers rows of a device-resident uint8 data set: output[i, d] = data[indices[i] * features + d] * (1/255),
    /// a multiply by the float nearest 1/255 on every backend (it may differ from a division by one ulp).
    /// With binarize, output[e] = u(e) &lt; p ? 1 : 0, u from Philox (counter e / 4, step, stream, 0; word e % 4;
    /// u = ((w >> 8) + 0.5) / 2^24). Indices outside the data set are a contract violation the host checks
    /// where it builds them.
    /// </summary>
    public void GatherBatch(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(features, nameof(features));
        Require(data, nameof(data));
        if (data.Length % features != 0)
            throw new ArgumentException($"data has {data.Length} bytes, not a multiple of {features} features", nameof(data));
        RequireLength(indices, rows, nameof(indices), $"{rows}");
        RequireLength(output, (long)rows * features, nameof(output), $"{rows}x{features}");
        GatherBatchCore(data, features, indices, rows, output, binarize, random);
    }

    /// <summary>result[0] = sum of values (a device-side reduction; result is a one-element view).</summary>
    public void ReduceSum(DeviceView<float> values, DeviceView<float> result)
    {
        ThrowIfDisposed();
        Require(values, nameof(values));
        RequireLength(result, 1, nameof(result), "1");
        ReduceSumCore(values, result);
    }

    /// <summary>Sets every element of the view to value.</summary>
    public void Fill(DeviceView<float> view, float value)
    {
        ThrowIfDisposed();
        Require(view, nameof(view));
        if (view.Length > 0) FillCore(view, value);
    }

    private static void RequireActivation(Activation activation)
    {
        if (activation is < Activation.Identity or > Activation.Sigmoid)
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
    }

    protected abstract void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue);
    protected abstract void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope);
    protected abstract void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope);
    protected abstract void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias);
    protected abstract void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z);
    protected abstract void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats);
    protected abstract void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl);
    protected abstract void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v);
    protected abstract void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random);
    protected abstract void ReduceSumCore(DeviceView<float> values, DeviceView<float> result);
    protected abstract void FillCore(DeviceView<float> view, float value);
}
