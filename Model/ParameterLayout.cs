namespace IlgpuVae.Model;

/// <summary>One named tensor of the flat parameter buffer: its PyTorch-style name, shape and place.</summary>
public sealed record ParameterTensor(string Name, int[] Shape, int Offset, int Length, int FanIn)
{
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}] @ {Offset}";
}

/// <summary>
/// A linear layer y = x W^T + b as places in the flat buffer: W is [Out, In] (PyTorch's layout) at
/// WeightOffset, b is [Out] at BiasOffset.
/// </summary>
public readonly record struct LinearSlot(string Name, int In, int Out, int WeightOffset, int BiasOffset)
{
    public int WeightLength => In * Out;
}

/// <summary>
/// Where every parameter lives in the one contiguous float buffer (llm.c's ParameterTensors): a
/// checkpoint is one blob, an optimiser step one kernel. Gradients and Adam moments use the same layout.
///
/// Names follow the PyTorch examples VAE: fc1 (encoder), fc21 / fc22 (mu / logvar heads), fc3
/// (decoder), fc4 (output). With more than one hidden layer the hidden layers are encoder.{i} and
/// decoder.{i} (nn.Sequential style); the heads and the output keep their names.
///
/// The two heads are ONE linear layer of 2 * latent outputs: fc21.weight is rows [0, L) and
/// fc22.weight rows [L, 2L) of its weight, fc21.bias and fc22.bias likewise, so one GEMM produces the
/// contract's stats matrix (mu | logvar) directly.
///
/// Every tensor starts at a multiple of <see cref="Alignment"/> floats (256 bytes) so device kernels
/// may use aligned vector loads; the gaps are never read by a layer and stay zero.
/// </summary>
public sealed class ParameterLayout
{
    public const int Alignment = 64;

    private readonly List<ParameterTensor> _tensors = [];
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private int _next;

    public ParameterLayout(VaeConfig config)
    {
        Config = config.Validate();
        var hidden = config.Hidden;
        int depth = hidden.Count;
        bool classic = depth == 1;

        var encoder = new List<LinearSlot>();
        int width = config.Input;
        for (int i = 0; i < depth; i++)
        {
            encoder.Add(AddLinear(classic ? "fc1" : $"encoder.{i}", width, hidden[i]));
            width = hidden[i];
        }
        Encoder = encoder;
        Heads = AddHeads(width, config.Latent);

        var decoder = new List<LinearSlot>();
        width = config.Latent;
        for (int i = 0; i < depth; i++)
        {
            int outWidth = hidden[depth - 1 - i];
            decoder.Add(AddLinear(classic ? "fc3" : $"decoder.{i}", width, outWidth));
            width = outWidth;
        }
        Decoder = decoder;
        Output = AddLinear("fc4", width, config.Input);
        Length = _next;
    }

    public VaeConfig Config { get; }

    /// <summary>
    /// The length of the flat buffer a configuration needs, tensors and alignment gaps, computed in
    /// 64-bit arithmetic without building the layout, so that a configuration too large for one buffer
    /// is told before anything is allocated. Walks the tensors in the constructor's order; stops
    /// counting once past <paramref name="cap"/> (the result is then some value above it), so that
    /// absurd widths cannot overflow. Widths must be positive (<see cref="VaeConfig.Validate"/> checks).
    /// </summary>
    public static long FlatLength(VaeConfig config, long cap = long.MaxValue / 4)
    {
        ArgumentNullException.ThrowIfNull(config);
        long next = 0;
        bool Add(long length, bool aligned = true)
        {
            next = (aligned ? (next + Alignment - 1) / Alignment * Alignment : next) + length;
            return next <= cap;
        }
        bool Linear(long inputs, long outputs) => Add(outputs * inputs) && Add(outputs);

        long width = config.Input;
        foreach (int h in config.Hidden)
        {
            if (!Linear(width, h)) return next;
            width = h;
        }
        long latent = config.Latent;
        if (!(Add(latent * width) && Add(latent * width, aligned: false) && Add(latent) && Add(latent, aligned: false))) return next;
        width = latent;
        for (int i = config.Hidden.Count - 1; i >= 0; i--)
        {
            if (!Linear(width, config.Hidden[i])) return next;
            width = config.Hidden[i];
        }
        Linear(width, config.Input);
        return next;
    }

    /// <summary>Floats in the flat buffer (tensors plus alignment gaps).</summary>
    public int Length { get; }

    /// <summary>Parameters that are trained (the tensors' elements, without gaps).</summary>
    public long ParameterCount => _tensors.Sum(t => (long)t.Length);

    /// <summary>Every named tensor in buffer order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>The encoder's hidden layers, input side first.</summary>
    public IReadOnlyList<LinearSlot> Encoder { get; }

    /// <summary>The fused mu | logvar heads: Out = 2 * latent.</summary>
    public LinearSlot Heads { get; }

    /// <summary>The decoder's hidden layers, latent side first.</summary>
    public IReadOnlyList<LinearSlot> Decoder { get; }

    /// <summary>The layer producing the logits (or Gaussian means) of the input features.</summary>
    public LinearSlot Output { get; }

    public ParameterTensor this[string name] => _byName.TryGetValue(name, out var tensor)
        ? tensor
        : throw new KeyNotFoundException($"no parameter tensor '{name}' (have: {string.Join(", ", _byName.Keys)})");

    public bool Contains(string name) => _byName.ContainsKey(name);

    private LinearSlot AddLinear(string name, int inputs, int outputs)
    {
        var weight = Add($"{name}.weight", [outputs, inputs], inputs);
        var bias = Add($"{name}.bias", [outputs], inputs);
        return new LinearSlot(name, inputs, outputs, weight.Offset, bias.Offset);
    }

    private LinearSlot AddHeads(int inputs, int latent)
    {
        // fc21.weight and fc22.weight back to back with no gap: together they are the [2L, in] weight.
        var mu = Add("fc21.weight", [latent, inputs], inputs);
        Add("fc22.weight", [latent, inputs], inputs, aligned: false);
        var muBias = Add("fc21.bias", [latent], inputs);
        Add("fc22.bias", [latent], inputs, aligned: false);
        return new LinearSlot("fc21|fc22", inputs, 2 * latent, mu.Offset, muBias.Offset);
    }

    private ParameterTensor Add(string name, int[] shape, int fanIn, bool aligned = true)
    {
        long length = 1;
        foreach (int d in shape) length *= d;
        int offset = aligned ? AlignUp(_next) : _next;
        if (offset + length > int.MaxValue - Alignment)
            throw new ArgumentException($"the model has more than {int.MaxValue} parameters");
        var tensor = new ParameterTensor(name, shape, offset, (int)length, fanIn);
        _tensors.Add(tensor);
        _byName.Add(name, tensor);
        _next = offset + (int)length;
        return tensor;
    }

    private static int AlignUp(int value) => (value + Alignment - 1) / Alignment * Alignment;
}
