namespace IlgpuVae.Kernels;

/// <summary>
/// The optional fused epilogue of a GEMM: C = act(alpha * op(A) op(B) + beta * C + bias), bias broadcast
/// over rows (length n). The default is no bias and identity.
/// </summary>
public readonly record struct Epilogue(Activation Activation, DeviceView<float> Bias, float LeakySlope = 0.01f)
{
    public static Epilogue None => default;
    public static Epilogue WithBias(DeviceView<float> bias, Activation activation = Activation.Identity, float leakySlope = 0.01f)
        => new(activation, bias, leakySlope);
}

/// <summary>
/// Loss settings of <see cref="Accelerator.VaeLoss"/>. Gaussian: -log N(x; mean = logits, Sigma^2 I),
/// constant terms included so the number is a true negative log-likelihood.
/// </summary>
public readonly record struct LossSettings(Likelihood Likelihood, float Beta = 1f, float Sigma = 1f);

/// <summary>
/// Adam / AdamW hyper-parameters (PyTorch's formulas, so runs compare). Decoupled = AdamW: the weight
/// decay is applied to the parameters, not added to the gradient.
/// </summary>
public readonly record struct AdamSettings(
    float LearningRate = 1e-3f, float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f,
    float WeightDecay = 0f, bool Decoupled = false)
{
    public static AdamSettings Default => new(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false);
}

/// <summary>
/// The Philox key and the counter words that are not the element index. Offset is added to every
/// element index of a draw: a call over elements [0, n) draws what elements [Offset, Offset + n) of one
/// larger draw would, so that ranks of a parallel run, each with its rows of a batch, draw the noise of
/// those rows in a single-process run.
/// </summary>
public readonly record struct RandomSource(ulong Seed, uint Step, uint Stream, uint Offset = 0);
