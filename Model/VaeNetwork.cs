using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The VAE on an accelerator: the flat parameter and gradient buffers, and every activation buffer
/// a batch of up to <see cref="Capacity"/> rows needs, allocated once. Forward and backward are written
/// by hand, layer by layer, each backward beside its forward, and launch only contract ops, so the
/// same code runs on every backend.
///
/// A training step is <see cref="ForwardLoss"/> then <see cref="Backward"/>; the gradients are of the
/// batch's summed loss (as PyTorch's reduction='sum' reference), ready for the optimiser.
/// </summary>
public sealed class VaeNetwork : IDisposable
{
    private readonly Accelerator _acc;
    private readonly DeviceBuffer<float>[] _encoderOut, _encoderGrad, _decoderOut, _decoderGrad;
    private readonly DeviceBuffer<float> _stats, _dstats, _eps, _z, _dz, _logits, _dlogits, _means, _loss;
    private readonly List<IDisposable> _owned = [];

    public VaeNetwork(Accelerator accelerator, VaeConfig config, int capacity, ReadOnlySpan<float> initialParameters)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "batch capacity must be > 0");
        _acc = accelerator;
        Layout = new ParameterLayout(config);
        Capacity = capacity;
        if (initialParameters.Length != Layout.Length)
            throw new ArgumentException($"initial parameters have {initialParameters.Length} floats; the layout of {config.Describe()} needs {Layout.Length}", nameof(initialParameters));

        Parameters = Own(accelerator.Upload(initialParameters));
        Gradients = Own(accelerator.Allocate<float>(Layout.Length));
        accelerator.Fill(Gradients, 0f); // the alignment gaps are never written by backward

        _encoderOut = Layout.Encoder.Select(s => Rows(s.Out)).ToArray();
        _encoderGrad = Layout.Encoder.Select(s => Rows(s.Out)).ToArray();
        _decoderOut = Layout.Decoder.Select(s => Rows(s.Out)).ToArray();
        _decoderGrad = Layout.Decoder.Select(s => Rows(s.Out)).ToArray();
        int latent = config.Latent;
        _stats = Rows(2 * latent); _dstats = Rows(2 * latent);
        _eps = Rows(latent); _z = Rows(latent); _dz = Rows(latent);
        _logits = Rows(config.Input); _dlogits = Rows(config.Input); _means = Rows(config.Input);
        _loss = Rows(1);
    }

    /// <summary>A network with PyTorch-style initial parameters drawn from seed.</summary>
    public static VaeNetwork Create(Accelerator accelerator, VaeConfig config, int capacity, ulong seed)
        => new(accelerator, config, capacity, ParameterInitializer.Create(new ParameterLayout(config), seed));

    public VaeConfig Config => Layout.Config;
    public ParameterLayout Layout { get; }
    public Accelerator Accelerator => _acc;

    /// <summary>The most rows one call may process.</summary>
    public int Capacity { get; }

    /// <summary>The flat parameter buffer (<see cref="ParameterLayout"/>).</summary>
    public DeviceBuffer<float> Parameters { get; }

    /// <summary>Gradients of the last <see cref="Backward"/>, same layout as <see cref="Parameters"/>.</summary>
    public DeviceBuffer<float> Gradients { get; }

    public DeviceView<float> Stats(int rows) => _stats.Slice(0, rows * 2 * Config.Latent);
    public DeviceView<float> Eps(int rows) => _eps.Slice(0, rows * Config.Latent);
    public DeviceView<float> Latent(int rows) => _z.Slice(0, rows * Config.Latent);
    public DeviceView<float> Logits(int rows) => _logits.Slice(0, rows * Config.Input);
    public DeviceView<float> PerSampleLoss(int rows) => _loss.Slice(0, rows);

    /// <summary>A named tensor of a flat buffer of this layout (parameters, gradients, moments).</summary>
    public DeviceView<float> View(DeviceBuffer<float> flat, string name)
    {
        var tensor = Layout[name];
        return flat.Slice(tensor.Offset, tensor.Length);
    }

    // ------------------------------------------------------------------ training step

    /// <summary>
    /// Encoder, reparameterised sample (eps from random), decoder and the fused loss for rows samples of
    /// x (rows x Input, values in [0, 1]). Leaves per-sample losses in <see cref="PerSampleLoss"/> and
    /// the loss gradients for <see cref="Backward"/>.
    /// </summary>
    public void ForwardLoss(DeviceView<float> x, int rows, RandomSource random)
    {
        CheckRows(x, rows);
        DeviceView<float> h = Encode(x, rows);
        LinearForward(Layout.Heads, h, rows, Stats(rows), Activation.Identity);
        _acc.SampleLatent(Stats(rows), rows, Config.Latent, random, Eps(rows), Latent(rows));
        Decode(Latent(rows), rows);
        _acc.VaeLoss(Config.LossSettings, Logits(rows), x, Stats(rows), rows, Config.Input, Config.Latent,
            PerSampleLoss(rows), _dlogits.Slice(0, rows * Config.Input), _dstats.Slice(0, rows * 2 * Config.Latent));
    }

    /// <summary>Gradients of the summed loss of the last <see cref="ForwardLoss"/> into <see cref="Gradients"/> (overwritten).</summary>
    public void Backward(DeviceView<float> x, int rows)
    {
        CheckRows(x, rows);
        int latent = Config.Latent;
        var decoder = Layout.Decoder;

        // Output layer, then the decoder's hidden layers from the top down to dz.
        DeviceView<float> dOut = _dlogits.Slice(0, rows * Config.Input);
        for (int i = decoder.Count; i >= 0; i--)
        {
            var slot = i == decoder.Count ? Layout.Output : decoder[i];
            DeviceView<float> input = i == 0 ? Latent(rows) : DecoderOut(i - 1, rows);
            DeviceView<float> dInput = i == 0 ? _dz.Slice(0, rows * latent) : DecoderGrad(i - 1, rows);
            LinearBackward(slot, input, rows, dOut, dInput);
            if (i > 0) _acc.ActivationBackward(Config.Activation, DecoderOut(i - 1, rows), dInput, dInput);
            dOut = dInput;
        }

        // Through the sample: VaeLoss left the KL gradient in dstats; add the decoder's path.
        DeviceView<float> dstats = _dstats.Slice(0, rows * 2 * latent);
        _acc.SampleLatentBackward(Stats(rows), Eps(rows), dOut, rows, latent, dstats);

        // Heads, then the encoder's hidden layers down to the input (whose gradient nobody needs).
        dOut = dstats;
        var encoder = Layout.Encoder;
        for (int i = encoder.Count; i >= 0; i--)
        {
            var slot = i == encoder.Count ? Layout.Heads : encoder[i];
            DeviceView<float> input = i == 0 ? x : EncoderOut(i - 1, rows);
            DeviceView<float> dInput = i == 0 ? default : EncoderGrad(i - 1, rows);
            LinearBackward(slot, input, rows, dOut, dInput);
            if (i > 0) _acc.ActivationBackward(Config.Activation, EncoderOut(i - 1, rows), dInput, dInput);
            dOut = dInput;
        }
    }

    // ------------------------------------------------------------------ inference pieces

    /// <summary>The encoder's means: z = mu(x) into <see cref="Latent"/> (the fc21 rows of the heads alone).</summary>
    public DeviceView<float> EncodeMean(DeviceView<float> x, int rows)
    {
        CheckRows(x, rows);
        DeviceView<float> h = Encode(x, rows);
        var heads = Layout.Heads;
        var muHead = new LinearSlot("fc21", heads.In, Config.Latent, heads.WeightOffset, heads.BiasOffset);
        LinearForward(muHead, h, rows, Latent(rows), Activation.Identity);
        return Latent(rows);
    }

    /// <summary>The encoder's posterior of each row of x: (mu | logvar), rows x (2 * Latent), in <see cref="Stats"/>.</summary>
    public DeviceView<float> EncodeStats(DeviceView<float> x, int rows)
    {
        CheckRows(x, rows);
        LinearForward(Layout.Heads, Encode(x, rows), rows, Stats(rows), Activation.Identity);
        return Stats(rows);
    }

    /// <summary>The decoder's logits (rows x Input) of each latent row of z; a view into the network.</summary>
    public DeviceView<float> DecodeLogits(DeviceView<float> z, int rows)
    {
        if (rows <= 0 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in 1..{Capacity}");
        if (z.Length != rows * Config.Latent)
            throw new ArgumentException($"z has {z.Length} elements; expected {rows}x{Config.Latent}", nameof(z));
        Decode(z, rows);
        return Logits(rows);
    }

    /// <summary>
    /// The decoder's mean image for each latent row of z (rows x Latent): sigmoid of the logits for a
    /// Bernoulli likelihood, the Gaussian mean itself otherwise. Returns a view into the network.
    /// </summary>
    public DeviceView<float> DecodeMeans(DeviceView<float> z, int rows)
    {
        if (rows <= 0 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in 1..{Capacity}");
        Decode(z, rows);
        var means = _means.Slice(0, rows * Config.Input);
        if (Config.Likelihood == Likelihood.Bernoulli) _acc.ActivationForward(Activation.Sigmoid, Logits(rows), means);
        else _acc.Copy(Logits(rows), means);
        return means;
    }

    // ------------------------------------------------------------------ layers

    private DeviceView<float> Encode(DeviceView<float> x, int rows)
    {
        DeviceView<float> h = x;
        for (int i = 0; i < Layout.Encoder.Count; i++)
        {
            LinearForward(Layout.Encoder[i], h, rows, EncoderOut(i, rows), Config.Activation);
            h = EncoderOut(i, rows);
        }
        return h;
    }

    private void Decode(DeviceView<float> z, int rows)
    {
        DeviceView<float> h = z;
        for (int i = 0; i < Layout.Decoder.Count; i++)
        {
            LinearForward(Layout.Decoder[i], h, rows, DecoderOut(i, rows), Config.Activation);
            h = DecoderOut(i, rows);
        }
        LinearForward(Layout.Output, h, rows, Logits(rows), Activation.Identity);
    }

    /// <summary>y = act(x W^T + b): one GEMM (N, T) with the bias and activation fused into its epilogue.</summary>
    private void LinearForward(LinearSlot slot, DeviceView<float> x, int rows, DeviceView<float> y, Activation activation)
        => _acc.Gemm(Transpose.N, Transpose.T, rows, slot.Out, slot.In, 1f, x, Weight(Parameters, slot), 0f, y,
            Epilogue.WithBias(Bias(Parameters, slot), activation));

    /// <summary>
    /// Backward of y = x W^T + b given dy (the gradient before the activation): dW = dy^T x (T, N),
    /// db = column sums of dy, dx = dy W (N, N) when dx is wanted.
    /// </summary>
    private void LinearBackward(LinearSlot slot, DeviceView<float> x, int rows, DeviceView<float> dy, DeviceView<float> dx)
    {
        _acc.Gemm(Transpose.T, Transpose.N, slot.Out, slot.In, rows, 1f, dy, x, 0f, Weight(Gradients, slot));
        _acc.BiasGradient(dy, rows, slot.Out, Bias(Gradients, slot));
        if (!dx.IsNull) _acc.Gemm(Transpose.N, Transpose.N, rows, slot.In, slot.Out, 1f, dy, Weight(Parameters, slot), 0f, dx);
    }

    private static DeviceView<float> Weight(DeviceBuffer<float> flat, LinearSlot slot) => flat.Slice(slot.WeightOffset, slot.WeightLength);
    private static DeviceView<float> Bias(DeviceBuffer<float> flat, LinearSlot slot) => flat.Slice(slot.BiasOffset, slot.Out);

    private DeviceView<float> EncoderOut(int i, int rows) => _encoderOut[i].Slice(0, rows * Layout.Encoder[i].Out);
    private DeviceView<float> EncoderGrad(int i, int rows) => _encoderGrad[i].Slice(0, rows * Layout.Encoder[i].Out);
    private DeviceView<float> DecoderOut(int i, int rows) => _decoderOut[i].Slice(0, rows * Layout.Decoder[i].Out);
    private DeviceView<float> DecoderGrad(int i, int rows) => _decoderGrad[i].Slice(0, rows * Layout.Decoder[i].Out);

    private void CheckRows(DeviceView<float> x, int rows)
    {
        if (rows <= 0 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in 1..{Capacity}");
        if (x.Length != rows * Config.Input)
            throw new ArgumentException($"x has {x.Length} elements; expected {rows}x{Config.Input}", nameof(x));
    }

    private DeviceBuffer<float> Rows(int width) => Own(_acc.Allocate<float>(Capacity * width));

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        foreach (var resource in _owned) resource.Dispose();
        _owned.Clear();
    }
}
