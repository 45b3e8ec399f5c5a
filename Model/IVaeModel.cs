using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The rows of one batch as a model takes them: the clean images the decoder is scored against, what
/// the encoder sees (the same images, or a corrupted copy for a denoising VAE) and the one-hot labels of
/// a conditional model (rows x Classes; null for the others). All on the device.
/// </summary>
public readonly record struct VaeBatch(DeviceView<float> Target, DeviceView<float> Input = default, DeviceView<float> Condition = default)
{
    /// <summary>What the encoder sees: <see cref="Input"/> when given, else the target itself.</summary>
    public DeviceView<float> EncoderInput => Input.IsNull ? Target : Input;
}

/// <summary>A KL term of the loss and where its per-sample values are.</summary>
public readonly record struct KlTerm(string Name, DeviceView<float> PerSample);

/// <summary>How the gradient of the encoder's expectation E_q[recon] is estimated.</summary>
public enum GradientEstimator
{
    /// <summary>The reparameterisation trick: z = mu + sigma eps, differentiated through the decoder.</summary>
    Reparameterisation = 0,
    /// <summary>The score function (REINFORCE): recon * d log q(z|x), no gradient through z.</summary>
    Score = 1,
    /// <summary>The score function with a leave-one-out baseline: the mean recon of the batch's other rows is subtracted.</summary>
    ScoreWithBaseline = 2,
}

/// <summary>The option and metadata names of the estimators: reparam, score, score-baseline.</summary>
public static class GradientEstimators
{
    private static readonly (GradientEstimator Estimator, string Name)[] All =
        [(GradientEstimator.Reparameterisation, "reparam"), (GradientEstimator.Score, "score"), (GradientEstimator.ScoreWithBaseline, "score-baseline")];

    public static string Name(GradientEstimator estimator) => All.First(e => e.Estimator == estimator).Name;

    public static GradientEstimator? Parse(string name) =>
        All.Where(e => string.Equals(e.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase)).Select(e => (GradientEstimator?)e.Estimator).FirstOrDefault();

    public static string Names => string.Join(", ", All.Select(e => e.Name));
}

/// <summary>
/// The surface of a model that the trainer, the optimiser, the outputs and the commands use: forward with
/// the loss, backward, the flat parameters and gradients, per-sample losses, encode, decode. A training
/// step is <see cref="ForwardLoss"/> then <see cref="Backward"/>; the gradients are of the batch's summed
/// loss (PyTorch's reduction='sum'), ready for the optimiser. Views returned point into the model's own
/// buffers and hold until the next call.
/// </summary>
public interface IVaeModel : IDisposable
{
    VaeConfig Config { get; }
    ParameterLayout Layout { get; }
    Accelerator Accelerator { get; }

    /// <summary>The most rows one call may process.</summary>
    int Capacity { get; }

    /// <summary>The flat parameter buffer (<see cref="ParameterLayout"/>).</summary>
    DeviceBuffer<float> Parameters { get; }

    /// <summary>Gradients of the last <see cref="Backward"/>, same layout as <see cref="Parameters"/>.</summary>
    DeviceBuffer<float> Gradients { get; }

    /// <summary>
    /// A factor on beta for the next forwards (1 by default): a KL warm-up (Bowman et al. 2016) ramps it
    /// from 0 to 1, so the KL terms weigh beta * KlScale in the loss and its gradients.
    /// </summary>
    float KlScale { get; set; }

    /// <summary>
    /// The free-bits floor in nats per latent dimension (0: none): a dimension whose KL, averaged over the
    /// batch, is below it contributes the floor instead, and no gradient (<see cref="Accelerator.FreeBits"/>).
    /// </summary>
    float FreeBits { get; set; }

    /// <summary>Encoder, reparameterised sample (eps from random), decoder and the fused loss of rows samples.</summary>
    void ForwardLoss(VaeBatch batch, int rows, RandomSource random);

    /// <summary>Gradients of the summed loss of the last <see cref="ForwardLoss"/> into <see cref="Gradients"/> (overwritten).</summary>
    void Backward(VaeBatch batch, int rows, GradientEstimator estimator = GradientEstimator.Reparameterisation);

    /// <summary>Loss of each row of the last <see cref="ForwardLoss"/> (recon + beta KL).</summary>
    DeviceView<float> PerSampleLoss(int rows);

    /// <summary>The unweighted KL of each row of the last <see cref="ForwardLoss"/>.</summary>
    DeviceView<float> PerSampleKl(int rows);

    /// <summary>Scratch of the latent draw: (mu | logvar), eps and z of the last forward (rows x 2L, rows x L, rows x L).</summary>
    DeviceView<float> Stats(int rows);
    DeviceView<float> Eps(int rows);
    DeviceView<float> Latent(int rows);

    /// <summary>The decoder's logits of the last forward or decode (rows x Input).</summary>
    DeviceView<float> Logits(int rows);

    /// <summary>The encoder's posterior of each row: (mu | logvar), rows x (2 * Latent), in <see cref="Stats"/>.</summary>
    DeviceView<float> EncodeStats(VaeBatch batch, int rows);

    /// <summary>The encoder's means z = mu(x) into <see cref="Latent"/>.</summary>
    DeviceView<float> EncodeMean(VaeBatch batch, int rows);

    /// <summary>The decoder's logits of latent rows z (with the rows' one-hot labels for a conditional model).</summary>
    DeviceView<float> DecodeLogits(DeviceView<float> z, int rows, DeviceView<float> condition = default);

    /// <summary>The decoder's mean image of latent rows z: sigmoid of the logits (Bernoulli) or the Gaussian mean.</summary>
    DeviceView<float> DecodeMeans(DeviceView<float> z, int rows, DeviceView<float> condition = default);

    /// <summary>
    /// Decoder means of rows draws from the model's prior (through every stochastic layer), the draws
    /// taken from random; with a conditional model's one-hot labels.
    /// </summary>
    DeviceView<float> SamplePrior(int rows, RandomSource random, DeviceView<float> condition = default);

    /// <summary>The unweighted KL terms of the last forward, per sample, by name ("kl"; a hierarchical model: "kl_z1", "kl_z2").</summary>
    IReadOnlyList<KlTerm> KlTerms(int rows);
}
