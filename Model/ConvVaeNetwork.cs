using IlgpuVae.Kernels;
using IlgpuVae.Model.Layers;

namespace IlgpuVae.Model;

/// <summary>
/// The convolutional VAE (<see cref="ModelKind.Conv"/>, `train --arch conv`). Encoder: for each width
/// of <see cref="VaeConfig.Hidden"/> (channels, default 32, 64) a 4x4 convolution of stride 2 and
/// padding 1 with ReLU, each halving the image (28 -> 14 -> 7), then the mu | logvar heads on the
/// flattened map. Decoder: the mirror, a linear layer with ReLU onto the smallest map, then 4x4 stride-2
/// transposed convolutions (ReLU between them) back to one channel of logits.
///
/// Activations are channels-last (NHWC), so a convolution is Im2Col then one GEMM with the bias and
/// ReLU fused (rows = images x output pixels, and the GEMM's output is the next NHWC map); its backward
/// is two GEMMs, a bias gradient and Col2Im. A transposed convolution is the adjoint: one GEMM to
/// columns, Col2Im onto the larger map, then BiasActivation; its backward uses Im2Col.
/// </summary>
public sealed class ConvVaeNetwork : IVaeModel
{
    public const int Kernel = 4, Stride = 2, Padding = 1;

    private readonly Accelerator _acc;
    private readonly IReadOnlyList<LinearSlot> _convs, _deconvs;
    private readonly int[] _channels; // channels at each level of the encoder: level 0 the image
    private readonly DeviceBuffer<float>[] _convCols, _convOut, _deconvCols, _deconvOut;
    private readonly DeviceBuffer<float> _scratchCols, _scratchMap, _scratchMap2, _stats, _dstats, _eps, _z, _dz, _fc3Out, _dfc3,
        _logits, _dlogits, _means, _loss, _kl;
    private readonly List<IDisposable> _owned = [];
    private DeviceView<float> _input;

    public ConvVaeNetwork(Accelerator accelerator, VaeConfig config, int capacity, ReadOnlySpan<float> initialParameters)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (config.Kind != ModelKind.Conv) throw new ArgumentException($"a {config.Kind} configuration is not a conv model", nameof(config));
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "batch capacity must be > 0");
        _acc = accelerator;
        Layout = new ParameterLayout(config);
        Capacity = capacity;
        if (initialParameters.Length != Layout.Length)
            throw new ArgumentException($"initial parameters have {initialParameters.Length} floats; the layout of {config.Describe()} needs {Layout.Length}", nameof(initialParameters));
        Parameters = Own(accelerator.Upload(initialParameters));
        Gradients = Own(accelerator.Allocate<float>(Layout.Length));
        accelerator.Fill(Gradients, 0f);

        _convs = Layout.Group("conv");
        _deconvs = Layout.Group("deconv");
        int depth = _convs.Count;
        _channels = new int[depth + 1];
        _channels[0] = 1;
        for (int i = 0; i < depth; i++) _channels[i + 1] = config.Hidden[i];
        _convCols = new DeviceBuffer<float>[depth];
        _convOut = new DeviceBuffer<float>[depth];
        _deconvCols = new DeviceBuffer<float>[depth];
        _deconvOut = new DeviceBuffer<float>[depth];
        int largestCols = 0, largestMap = config.Input;
        for (int i = 0; i < depth; i++)
        {
            int pixelsOut = Pixels(i + 1);
            _convCols[i] = Rows(pixelsOut * Kernel * Kernel * _channels[i]);
            _convOut[i] = Rows(pixelsOut * _channels[i + 1]);
            largestCols = Math.Max(largestCols, pixelsOut * Kernel * Kernel * Math.Max(_channels[i], _channels[i + 1]));
            largestMap = Math.Max(largestMap, Pixels(i) * _channels[i]);
            largestMap = Math.Max(largestMap, pixelsOut * _channels[i + 1]);
        }
        // Decoder level j goes from level depth - j to depth - j - 1.
        for (int j = 0; j < depth; j++)
        {
            int from = depth - j, to = from - 1;
            _deconvCols[j] = Rows(Pixels(from) * Kernel * Kernel * _channels[to]);
            _deconvOut[j] = j == depth - 1 ? null! : Rows(Pixels(to) * _channels[to]);
        }
        _scratchCols = Rows(largestCols);
        _scratchMap = Rows(largestMap);
        _scratchMap2 = Rows(largestMap);
        int latent = config.Latent, flat = FlatWidth;
        _stats = Rows(2 * latent); _dstats = Rows(2 * latent); _eps = Rows(latent); _z = Rows(latent); _dz = Rows(latent);
        _fc3Out = Rows(flat); _dfc3 = Rows(flat);
        _logits = Rows(config.Input); _dlogits = Rows(config.Input); _means = Rows(config.Input);
        _loss = Rows(1); _kl = Rows(1);
    }

    /// <summary>Null when the image fits the stride-2 stack (each side halves exactly at every layer), else why not.</summary>
    public static string? ShapeProblem(VaeConfig config)
    {
        int divisor = 1 << Math.Min(config.Hidden.Count, 20);
        if (config.ImageHeight % divisor != 0 || config.ImageWidth % divisor != 0)
            return $"a conv model with {config.Hidden.Count} stride-2 layers (--hidden {VaeConfig.FormatHidden(config.Hidden)}) needs image sides " +
                $"divisible by {divisor}; these images are {config.ImageHeight}x{config.ImageWidth} (use fewer layers, or --arch mlp)";
        return null;
    }

    /// <summary>conv.i (4x4, stride 2), the heads on the flattened smallest map, fc3 back onto it, deconv.j (transposed).</summary>
    public static void DescribeLayout(ParameterLayout.Builder b, VaeConfig config)
    {
        int depth = config.Hidden.Count, channels = 1;
        for (int i = 0; i < depth; i++) { b.Convolution("conv", $"conv.{i}", channels, config.Hidden[i], Kernel); channels = config.Hidden[i]; }
        int flat = (config.ImageHeight >> depth) * (config.ImageWidth >> depth) * channels;
        b.Heads("heads", "fc21", "fc22", flat, config.Latent);
        b.Linear("decoder", "fc3", config.Latent, flat);
        for (int j = 0; j < depth; j++)
        {
            int to = depth - j - 2 >= 0 ? config.Hidden[depth - j - 2] : 1;
            b.TransposedConvolution("deconv", $"deconv.{j}", channels, to, Kernel);
            channels = to;
        }
    }

    public VaeConfig Config => Layout.Config;
    public ParameterLayout Layout { get; }
    public Accelerator Accelerator => _acc;
    public int Capacity { get; }
    public DeviceBuffer<float> Parameters { get; }
    public DeviceBuffer<float> Gradients { get; }

    public float KlScale { get; set; } = 1f;

    /// <summary>The free-bits floor (nats per latent dimension, 0: none).</summary>
    public float FreeBits { get; set; }
    private DeviceBuffer<float>? _freed;

    /// <summary>The KL terms' weight in this forward: beta, scaled during a KL warm-up.</summary>
    private float KlWeight => Config.Beta * KlScale;

    private int Depth => _convs.Count;
    private int Pixels(int level) => (Config.ImageHeight >> level) * (Config.ImageWidth >> level);
    private int Height(int level) => Config.ImageHeight >> level;
    private int Width(int level) => Config.ImageWidth >> level;
    private int FlatWidth => Pixels(Depth) * _channels[Depth];

    public DeviceView<float> Stats(int rows) => _stats.Slice(0, rows * 2 * Config.Latent);
    public DeviceView<float> Eps(int rows) => _eps.Slice(0, rows * Config.Latent);
    public DeviceView<float> Latent(int rows) => _z.Slice(0, rows * Config.Latent);
    public DeviceView<float> Logits(int rows) => _logits.Slice(0, rows * Config.Input);
    public DeviceView<float> PerSampleLoss(int rows) => _loss.Slice(0, rows);
    public DeviceView<float> PerSampleKl(int rows) => _kl.Slice(0, rows);
    public IReadOnlyList<KlTerm> KlTerms(int rows) => [new KlTerm("kl", PerSampleKl(rows))];

    private static DeviceView<float> View(DeviceBuffer<float> buffer, int length) => buffer.Slice(0, length);

    // ------------------------------------------------------------------ training step

    public void ForwardLoss(VaeBatch batch, int rows, RandomSource random)
    {
        CheckBatch(batch, rows);
        Encode(batch.EncoderInput, rows);
        _acc.SampleLatent(Stats(rows), rows, Config.Latent, random, Eps(rows), Latent(rows));
        Decode(Latent(rows), rows);
        _acc.VaeLoss(Config.LossSettings with { Beta = KlWeight }, Logits(rows), batch.Target, Stats(rows), rows, Config.Input, Config.Latent,
            PerSampleLoss(rows), View(_dlogits, rows * Config.Input), View(_dstats, rows * 2 * Config.Latent), PerSampleKl(rows));
        if (FreeBits > 0)
            _acc.FreeBits(Stats(rows), rows, Config.Latent, FreeBits, KlWeight, PerSampleLoss(rows), View(_dstats, rows * 2 * Config.Latent), _freed ??= Own(_acc.Allocate<float>(Config.Latent)));
    }

    public void Backward(VaeBatch batch, int rows, GradientEstimator estimator = GradientEstimator.Reparameterisation)
    {
        CheckBatch(batch, rows);
        var p = Parameters;
        var g = Gradients;
        bool reparam = estimator == GradientEstimator.Reparameterisation;

        // Decoder: the transposed convolutions from the logits back to fc3's output, then fc3 to dz.
        DeviceView<float> dOut = View(_dlogits, rows * Config.Input); // level 0, before the identity
        for (int j = Depth - 1; j >= 0; j--)
        {
            int from = Depth - j, to = from - 1;
            var slot = _deconvs[j];
            int pixelsTo = rows * Pixels(to), pixelsFrom = rows * Pixels(from), outChannels = _channels[to];
            // The bias of outChannels (after col2im), then the columns' gradient: Im2Col of dOut.
            _acc.BiasGradient(dOut, pixelsTo, outChannels, Linear.Bias(g, slot with { Out = outChannels }));
            var dCols = View(_scratchCols, pixelsFrom * slot.Out);
            _acc.Im2Col(dOut, rows, Height(to), Width(to), outChannels, Kernel, Stride, Padding, dCols);
            DeviceView<float> input = from == Depth ? View(_fc3Out, rows * FlatWidth) : View(_deconvOut[j - 1], pixelsFrom * _channels[from]);
            _acc.Gemm(Transpose.T, Transpose.N, slot.Out, slot.In, pixelsFrom, 1f, dCols, input, 0f, Linear.Weight(g, slot));
            var dInput = from == Depth ? View(_dfc3, rows * FlatWidth) : View(Alternate(j), pixelsFrom * _channels[from]);
            _acc.Gemm(Transpose.N, Transpose.N, pixelsFrom, slot.In, slot.Out, 1f, dCols, Linear.Weight(p, slot), 0f, dInput);
            _acc.ActivationBackward(Activation.Relu, input, dInput, dInput);
            dOut = dInput;
        }
        var fc3 = Layout.Decoder[0];
        Linear.Backward(_acc, p, g, fc3, Latent(rows), rows, dOut, reparam ? View(_dz, rows * Config.Latent) : default);

        var dstats = View(_dstats, rows * 2 * Config.Latent);
        if (reparam)
            _acc.SampleLatentBackward(Stats(rows), Eps(rows), View(_dz, rows * Config.Latent), rows, Config.Latent, dstats);
        else
            _acc.ScoreFunctionBackward(Stats(rows), Eps(rows), PerSampleLoss(rows), PerSampleKl(rows), KlWeight,
                estimator == GradientEstimator.ScoreWithBaseline ? ScoreBaseline.LeaveOneOut : ScoreBaseline.None, rows, Config.Latent, dstats);

        // Heads on the flattened last map, then the convolutions down to the image (whose gradient nobody needs).
        var top = View(_convOut[Depth - 1], rows * FlatWidth);
        var dTop = View(_scratchMap, rows * FlatWidth);
        Linear.Backward(_acc, p, g, Layout.Heads, top, rows, dstats, dTop);
        dOut = dTop;
        for (int i = Depth - 1; i >= 0; i--)
        {
            var slot = _convs[i];
            int pixelsOut = rows * Pixels(i + 1);
            _acc.ActivationBackward(Activation.Relu, View(_convOut[i], pixelsOut * slot.Out), dOut, dOut);
            var cols = View(_convCols[i], pixelsOut * slot.In);
            if (i == 0)
            {
                Linear.Backward(_acc, p, g, slot, cols, pixelsOut, dOut, default);
                break;
            }
            var dCols = View(_scratchCols, pixelsOut * slot.In);
            Linear.Backward(_acc, p, g, slot, cols, pixelsOut, dOut, dCols);
            var dInput = View(dOut.Buffer == _scratchMap ? _scratchMap2 : _scratchMap, rows * Pixels(i) * _channels[i]);
            _acc.Col2Im(dCols, rows, Height(i), Width(i), _channels[i], Kernel, Stride, Padding, dInput);
            dOut = dInput;
        }
    }

    /// <summary>The decoder's map gradients alternate between two scratch maps (a step reads one and writes the other).</summary>
    private DeviceBuffer<float> Alternate(int j) => (Depth - 1 - j) % 2 == 0 ? _scratchMap : _scratchMap2;

    // ------------------------------------------------------------------ the passes

    private void Encode(DeviceView<float> x, int rows)
    {
        _input = x;
        DeviceView<float> h = x;
        for (int i = 0; i < Depth; i++)
        {
            var slot = _convs[i];
            int pixelsOut = rows * Pixels(i + 1);
            var cols = View(_convCols[i], pixelsOut * slot.In);
            _acc.Im2Col(h, rows, Height(i), Width(i), _channels[i], Kernel, Stride, Padding, cols);
            h = View(_convOut[i], pixelsOut * slot.Out);
            Linear.Forward(_acc, Parameters, slot, cols, pixelsOut, h, Activation.Relu);
        }
        Linear.Forward(_acc, Parameters, Layout.Heads, h, rows, Stats(rows), Activation.Identity);
    }

    private void Decode(DeviceView<float> z, int rows)
    {
        var h = View(_fc3Out, rows * FlatWidth);
        Linear.Forward(_acc, Parameters, Layout.Decoder[0], z, rows, h, Activation.Relu);
        for (int j = 0; j < Depth; j++)
        {
            int from = Depth - j, to = from - 1;
            var slot = _deconvs[j];
            int pixelsFrom = rows * Pixels(from), outChannels = _channels[to];
            var cols = View(_deconvCols[j], pixelsFrom * slot.Out);
            _acc.Gemm(Transpose.N, Transpose.T, pixelsFrom, slot.Out, slot.In, 1f, h, Linear.Weight(Parameters, slot), 0f, cols);
            var output = j == Depth - 1 ? Logits(rows) : View(_deconvOut[j], rows * Pixels(to) * outChannels);
            _acc.Col2Im(cols, rows, Height(to), Width(to), outChannels, Kernel, Stride, Padding, output);
            _acc.BiasActivation(output, rows * Pixels(to), outChannels, Linear.Bias(Parameters, slot with { Out = outChannels }),
                j == Depth - 1 ? Activation.Identity : Activation.Relu);
            h = output;
        }
    }

    // ------------------------------------------------------------------ inference pieces

    public DeviceView<float> EncodeStats(VaeBatch batch, int rows)
    {
        CheckBatch(batch, rows);
        Encode(batch.EncoderInput, rows);
        return Stats(rows);
    }

    public DeviceView<float> EncodeMean(VaeBatch batch, int rows)
    {
        EncodeStats(batch, rows);
        _acc.CopyColumns(Stats(rows), rows, 2 * Config.Latent, 0, Latent(rows), Config.Latent, 0, Config.Latent);
        return Latent(rows);
    }

    public DeviceView<float> DecodeLogits(DeviceView<float> z, int rows, DeviceView<float> condition = default)
    {
        CheckLatent(z, rows, condition);
        Decode(z, rows);
        return Logits(rows);
    }

    public DeviceView<float> DecodeMeans(DeviceView<float> z, int rows, DeviceView<float> condition = default)
    {
        CheckLatent(z, rows, condition);
        Decode(z, rows);
        var means = _means.Slice(0, rows * Config.Input);
        if (Config.Likelihood == Likelihood.Bernoulli) _acc.ActivationForward(Activation.Sigmoid, Logits(rows), means);
        else _acc.Copy(Logits(rows), means);
        return means;
    }

    public DeviceView<float> SamplePrior(int rows, RandomSource random, DeviceView<float> condition = default)
    {
        CheckRows(rows);
        _acc.Fill(Stats(rows), 0f);
        _acc.SampleLatent(Stats(rows), rows, Config.Latent, random, Eps(rows), Latent(rows));
        return DecodeMeans(Latent(rows), rows, condition);
    }

    // ------------------------------------------------------------------ checks and buffers

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
        if (!batch.Condition.IsNull) throw new ArgumentException("a conv model takes no labels", nameof(batch));
    }

    private void CheckLatent(DeviceView<float> z, int rows, DeviceView<float> condition)
    {
        CheckRows(rows);
        if (z.Length != rows * Config.Latent) throw new ArgumentException($"z has {z.Length} elements; expected {rows}x{Config.Latent}", nameof(z));
        if (!condition.IsNull) throw new ArgumentException("a conv model takes no labels", nameof(condition));
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
