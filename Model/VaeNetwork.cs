using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The MLP VAE on an accelerator (<see cref="ModelKind.Mlp"/>): the flat parameter and gradient
/// buffers, and every activation buffer a batch of up to <see cref="Capacity"/> rows needs, allocated
/// once. Forward and backward are written by hand, layer by layer, each backward beside its forward,
/// and launch only contract ops, so the same code runs on every backend.
///
/// Models of the same family override the three hooks (what the encoder and the decoder take, and how
/// the latent's gradient comes out of the decoder's input gradient): <see cref="ConditionalVaeNetwork"/>.
/// </summary>
public class VaeNetwork : IVaeModel
{
    protected readonly Accelerator _acc;
    private readonly DeviceBuffer<float>[] _encoderOut, _encoderGrad, _decoderOut, _decoderGrad;
    private readonly DeviceBuffer<float> _stats, _dstats, _eps, _z, _dz, _decoderInputGrad, _logits, _dlogits, _means, _loss, _kl;
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
        // The decoder's first layer may take more than z (a label beside it): its input gradient has that width.
        int decoderIn = Layout.Decoder.Count > 0 ? Layout.Decoder[0].In : Layout.Output.In;
        _decoderInputGrad = decoderIn == latent ? _dz : Rows(decoderIn);
        _logits = Rows(config.Input); _dlogits = Rows(config.Input); _means = Rows(config.Input);
        _loss = Rows(1); _kl = Rows(1);
    }

    /// <summary>A network with PyTorch-style initial parameters drawn from seed.</summary>
    public static VaeNetwork Create(Accelerator accelerator, VaeConfig config, int capacity, ulong seed)
        => new(accelerator, config, capacity, ParameterInitializer.Create(new ParameterLayout(config), seed));

    /// <summary>
    /// The MLP family's tensors. Names follow the PyTorch examples VAE: fc1 (encoder), fc21 / fc22 (mu /
    /// logvar heads), fc3 (decoder), fc4 (output). With more than one hidden layer the hidden layers are
    /// encoder.{i} and decoder.{i} (nn.Sequential style); the heads and the output keep their names.
    /// labelWidth columns join the encoder's input and the decoder's (a conditional model's one-hot y).
    /// </summary>
    public static void DescribeLayout(ParameterLayout.Builder b, VaeConfig config, int labelWidth)
    {
        var hidden = config.Hidden;
        int depth = hidden.Count;
        bool classic = depth == 1;
        int width = config.Input + labelWidth;
        for (int i = 0; i < depth; i++)
        {
            b.Linear("encoder", classic ? "fc1" : $"encoder.{i}", width, hidden[i]);
            width = hidden[i];
        }
        b.Heads("heads", "fc21", "fc22", width, config.Latent);
        width = config.Latent + labelWidth;
        for (int i = 0; i < depth; i++)
        {
            int outWidth = hidden[depth - 1 - i];
            b.Linear("decoder", classic ? "fc3" : $"decoder.{i}", width, outWidth);
            width = outWidth;
        }
        b.Linear("output", "fc4", width, config.Input);
    }

    public VaeConfig Config => Layout.Config;
    public ParameterLayout Layout { get; }
    public Accelerator Accelerator => _acc;
    public int Capacity { get; }
    public DeviceBuffer<float> Parameters { get; }
    public DeviceBuffer<float> Gradients { get; }

    public float KlScale { get; set; } = 1f;

    /// <summary>The free-bits floor (nats per latent dimension, 0: none) and which dimensions it freed in the last forward.</summary>
    public float FreeBits { get; set; }
    private DeviceBuffer<float>? _freed;

    /// <summary>The KL terms' weight in this forward: beta, scaled during a KL warm-up.</summary>
    private float KlWeight => Config.Beta * KlScale;

    public DeviceView<float> Stats(int rows) => _stats.Slice(0, rows * 2 * Config.Latent);
    public DeviceView<float> Eps(int rows) => _eps.Slice(0, rows * Config.Latent);
    public DeviceView<float> Latent(int rows) => _z.Slice(0, rows * Config.Latent);
    public DeviceView<float> Logits(int rows) => _logits.Slice(0, rows * Config.Input);
    public DeviceView<float> PerSampleLoss(int rows) => _loss.Slice(0, rows);
    public DeviceView<float> PerSampleKl(int rows) => _kl.Slice(0, rows);

    /// <summary>A named tensor of a flat buffer of this layout (parameters, gradients, moments).</summary>
    public DeviceView<float> View(DeviceBuffer<float> flat, string name)
    {
        var tensor = Layout[name];
        return flat.Slice(tensor.Offset, tensor.Length);
    }

    // ------------------------------------------------------------------ hooks of the family

    /// <summary>What the encoder's first layer takes for a batch (rows x its In).</summary>
    protected virtual DeviceView<float> EncoderInput(VaeBatch batch, int rows) => batch.EncoderInput;

    /// <summary>What the decoder's first layer takes for latent rows z (rows x its In).</summary>
    protected virtual DeviceView<float> DecoderInput(DeviceView<float> z, DeviceView<float> condition, int rows) => z;

    /// <summary>dz out of the gradient of the decoder's input (the same buffer when the decoder takes z alone).</summary>
    protected virtual DeviceView<float> LatentGradient(DeviceView<float> decoderInputGradient, int rows) => decoderInputGradient;

    /// <summary>The gradient buffer of the decoder's input, rows x its In.</summary>
    protected DeviceView<float> DecoderInputGradient(int rows) => _decoderInputGrad.Slice(0, rows * (_decoderInputGrad.Length / Capacity));

    // ------------------------------------------------------------------ training step

    /// <summary>x alone: the MLP's batch (the encoder sees what the decoder is scored against).</summary>
    public void ForwardLoss(DeviceView<float> x, int rows, RandomSource random) => ForwardLoss(new VaeBatch(x), rows, random);

    public void Backward(DeviceView<float> x, int rows) => Backward(new VaeBatch(x), rows);

    /// <summary>
    /// Encoder, reparameterised sample (eps from random), decoder and the fused loss against the batch's
    /// target (values in [0, 1]). Leaves per-sample losses in <see cref="PerSampleLoss"/> and the loss
    /// gradients for <see cref="Backward"/>.
    /// </summary>
    public void ForwardLoss(VaeBatch batch, int rows, RandomSource random)
    {
        CheckBatch(batch, rows);
        DeviceView<float> h = Encode(EncoderInput(batch, rows), rows);
        LinearForward(Layout.Heads, h, rows, Stats(rows), Activation.Identity);
        _acc.SampleLatent(Stats(rows), rows, Config.Latent, random, Eps(rows), Latent(rows));
        Decode(DecoderInput(Latent(rows), batch.Condition, rows), rows);
        _acc.VaeLoss(Config.LossSettings with { Beta = KlWeight }, Logits(rows), batch.Target, Stats(rows), rows, Config.Input, Config.Latent,
            PerSampleLoss(rows), _dlogits.Slice(0, rows * Config.Input), _dstats.Slice(0, rows * 2 * Config.Latent), PerSampleKl(rows));
        if (FreeBits > 0)
            _acc.FreeBits(Stats(rows), rows, Config.Latent, FreeBits, KlWeight, PerSampleLoss(rows), _dstats.Slice(0, rows * 2 * Config.Latent), _freed ??= Own(_acc.Allocate<float>(Config.Latent)));
    }

    public void Backward(VaeBatch batch, int rows, GradientEstimator estimator = GradientEstimator.Reparameterisation)
    {
        CheckBatch(batch, rows);
        int latent = Config.Latent;
        var decoder = Layout.Decoder;

        // Output layer, then the decoder's hidden layers from the top down to its input.
        DeviceView<float> dOut = _dlogits.Slice(0, rows * Config.Input);
        DeviceView<float> decoderInput = DecoderInput(Latent(rows), batch.Condition, rows);
        for (int i = decoder.Count; i >= 0; i--)
        {
            var slot = i == decoder.Count ? Layout.Output : decoder[i];
            DeviceView<float> input = i == 0 ? decoderInput : DecoderOut(i - 1, rows);
            // The score-function estimator sends nothing through z: the decoder's input gradient is not needed.
            DeviceView<float> dInput = i > 0 ? DecoderGrad(i - 1, rows)
                : estimator == GradientEstimator.Reparameterisation ? DecoderInputGradient(rows) : default;
            LinearBackward(slot, input, rows, dOut, dInput);
            if (i > 0) _acc.ActivationBackward(Config.Activation, DecoderOut(i - 1, rows), dInput, dInput);
            dOut = dInput;
        }

        // Through the sample: VaeLoss left the KL gradient in dstats; add the reconstruction's.
        DeviceView<float> dstats = _dstats.Slice(0, rows * 2 * latent);
        if (estimator == GradientEstimator.Reparameterisation)
            _acc.SampleLatentBackward(Stats(rows), Eps(rows), LatentGradient(dOut, rows), rows, latent, dstats);
        else
            _acc.ScoreFunctionBackward(Stats(rows), Eps(rows), PerSampleLoss(rows), PerSampleKl(rows), KlWeight,
                estimator == GradientEstimator.ScoreWithBaseline ? ScoreBaseline.LeaveOneOut : ScoreBaseline.None, rows, latent, dstats);

        // Heads, then the encoder's hidden layers down to the input (whose gradient nobody needs).
        dOut = dstats;
        var encoder = Layout.Encoder;
        DeviceView<float> encoderInput = EncoderInput(batch, rows);
        for (int i = encoder.Count; i >= 0; i--)
        {
            var slot = i == encoder.Count ? Layout.Heads : encoder[i];
            DeviceView<float> input = i == 0 ? encoderInput : EncoderOut(i - 1, rows);
            DeviceView<float> dInput = i == 0 ? default : EncoderGrad(i - 1, rows);
            LinearBackward(slot, input, rows, dOut, dInput);
            if (i > 0) _acc.ActivationBackward(Config.Activation, EncoderOut(i - 1, rows), dInput, dInput);
            dOut = dInput;
        }
    }

    // ------------------------------------------------------------------ inference pieces

    public DeviceView<float> EncodeMean(DeviceView<float> x, int rows) => EncodeMean(new VaeBatch(x), rows);

    /// <summary>The encoder's means: z = mu(x) into <see cref="Latent"/> (the fc21 rows of the heads alone).</summary>
    public DeviceView<float> EncodeMean(VaeBatch batch, int rows)
    {
        CheckBatch(batch, rows);
        DeviceView<float> h = Encode(EncoderInput(batch, rows), rows);
        var heads = Layout.Heads;
        var muHead = new LinearSlot("fc21", heads.In, Config.Latent, heads.WeightOffset, heads.BiasOffset);
        LinearForward(muHead, h, rows, Latent(rows), Activation.Identity);
        return Latent(rows);
    }

    public DeviceView<float> EncodeStats(DeviceView<float> x, int rows) => EncodeStats(new VaeBatch(x), rows);

    public DeviceView<float> EncodeStats(VaeBatch batch, int rows)
    {
        CheckBatch(batch, rows);
        LinearForward(Layout.Heads, Encode(EncoderInput(batch, rows), rows), rows, Stats(rows), Activation.Identity);
        return Stats(rows);
    }

    public DeviceView<float> DecodeLogits(DeviceView<float> z, int rows, DeviceView<float> condition = default)
    {
        CheckLatent(z, rows, condition);
        Decode(DecoderInput(z, condition, rows), rows);
        return Logits(rows);
    }

    public DeviceView<float> DecodeMeans(DeviceView<float> z, int rows, DeviceView<float> condition = default)
    {
        CheckLatent(z, rows, condition);
        Decode(DecoderInput(z, condition, rows), rows);
        var means = _means.Slice(0, rows * Config.Input);
        if (Config.Likelihood == Likelihood.Bernoulli) _acc.ActivationForward(Activation.Sigmoid, Logits(rows), means);
        else _acc.Copy(Logits(rows), means);
        return means;
    }

    /// <summary>z ~ N(0, I): SampleLatent on zero statistics, then the decoder's means.</summary>
    public DeviceView<float> SamplePrior(int rows, RandomSource random, DeviceView<float> condition = default)
    {
        CheckRows(rows);
        _acc.Fill(Stats(rows), 0f);
        _acc.SampleLatent(Stats(rows), rows, Config.Latent, random, Eps(rows), Latent(rows));
        return DecodeMeans(Latent(rows), rows, condition);
    }

    public IReadOnlyList<KlTerm> KlTerms(int rows) => [new KlTerm("kl", PerSampleKl(rows))];

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

    private void Decode(DeviceView<float> input, int rows)
    {
        DeviceView<float> h = input;
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

    private void CheckRows(int rows)
    {
        if (rows <= 0 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in 1..{Capacity}");
    }

    private void CheckBatch(VaeBatch batch, int rows)
    {
        CheckRows(rows);
        if (batch.Target.Length != rows * Config.Input)
            throw new ArgumentException($"x has {batch.Target.Length} elements; expected {rows}x{Config.Input}", nameof(batch));
        if (!batch.Input.IsNull && batch.Input.Length != rows * Config.Input)
            throw new ArgumentException($"the encoder's input has {batch.Input.Length} elements; expected {rows}x{Config.Input}", nameof(batch));
        CheckCondition(batch.Condition, rows);
    }

    private void CheckLatent(DeviceView<float> z, int rows, DeviceView<float> condition)
    {
        CheckRows(rows);
        if (z.Length != rows * Config.Latent)
            throw new ArgumentException($"z has {z.Length} elements; expected {rows}x{Config.Latent}", nameof(z));
        CheckCondition(condition, rows);
    }

    private void CheckCondition(DeviceView<float> condition, int rows)
    {
        if (Config.Classes == 0 && !condition.IsNull)
            throw new ArgumentException($"a {ModelKinds.Of(Config.Kind).Name} model takes no labels", nameof(condition));
        if (Config.Classes > 0 && condition.Length != rows * Config.Classes)
            throw new ArgumentException($"the one-hot labels have {condition.Length} elements; expected {rows}x{Config.Classes}", nameof(condition));
    }

    protected DeviceBuffer<float> Rows(int width) => Own(_acc.Allocate<float>(Capacity * width));

    protected T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        foreach (var resource in _owned) resource.Dispose();
        _owned.Clear();
        GC.SuppressFinalize(this);
    }
}
