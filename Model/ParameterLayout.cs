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
/// A model kind describes its tensors to a <see cref="Builder"/> (<see cref="ModelKinds"/>); the layout
/// is what the builder recorded: the tensors in order, and the linear layers in named groups (for the
/// MLP family "encoder", "heads", "decoder" and "output"), which the model's forward and backward walk.
///
/// Every tensor starts at a multiple of <see cref="Alignment"/> floats (256 bytes) so device kernels
/// may use aligned vector loads; the gaps are never read by a layer and stay zero.
/// </summary>
public sealed class ParameterLayout
{
    public const int Alignment = 64;

    private readonly List<ParameterTensor> _tensors;
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<LinearSlot>> _groups;

    public ParameterLayout(VaeConfig config) : this(config.Validate(), Describe(config, long.MaxValue))
    {
    }

    private ParameterLayout(VaeConfig config, Builder builder)
    {
        if (builder.Length > int.MaxValue - Alignment)
            throw new ArgumentException($"the model has more than {int.MaxValue} parameters");
        Config = config;
        _tensors = builder.Tensors;
        foreach (var t in _tensors) _byName.Add(t.Name, t);
        _groups = builder.Groups;
        Length = (int)builder.Length;
    }

    private static Builder Describe(VaeConfig config, long cap)
    {
        var builder = new Builder(cap);
        ModelKinds.Of(config.Kind).DescribeLayout(builder, config);
        return builder;
    }

    public VaeConfig Config { get; }

    /// <summary>
    /// The length of the flat buffer a configuration needs, tensors and alignment gaps, counted in
    /// 64-bit arithmetic with nothing allocated, so that a configuration too large for one buffer is
    /// told before anything is built. Stops counting once past <paramref name="cap"/> (the result is
    /// then some value above it), so that absurd widths cannot overflow. Widths must be positive.
    /// </summary>
    public static long FlatLength(VaeConfig config, long cap = long.MaxValue / 4)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Describe(config, cap).Length;
    }

    /// <summary>Floats in the flat buffer (tensors plus alignment gaps).</summary>
    public int Length { get; }

    /// <summary>Parameters that are trained (the tensors' elements, without gaps).</summary>
    public long ParameterCount => _tensors.Sum(t => (long)t.Length);

    /// <summary>Every named tensor in buffer order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>The linear layers of a group in the order the model described them (empty when none).</summary>
    public IReadOnlyList<LinearSlot> Group(string name) => _groups.TryGetValue(name, out var slots) ? slots : [];

    /// <summary>The encoder's hidden layers, input side first.</summary>
    public IReadOnlyList<LinearSlot> Encoder => Group("encoder");

    /// <summary>The fused mu | logvar heads: Out = 2 * latent.</summary>
    public LinearSlot Heads => Group("heads")[0];

    /// <summary>The decoder's hidden layers, latent side first.</summary>
    public IReadOnlyList<LinearSlot> Decoder => Group("decoder");

    /// <summary>The layer producing the logits (or Gaussian means) of the input features.</summary>
    public LinearSlot Output => Group("output")[0];

    public ParameterTensor this[string name] => _byName.TryGetValue(name, out var tensor)
        ? tensor
        : throw new KeyNotFoundException($"no parameter tensor '{name}' (have: {string.Join(", ", _byName.Keys)})");

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>
    /// Records a model's tensors in order. Lengths are counted in 64 bits; past the cap nothing more is
    /// recorded (a layout too large is only ever measured, never built), so absurd widths cannot overflow.
    /// </summary>
    public sealed class Builder
    {
        private readonly long _cap;
        internal List<ParameterTensor> Tensors { get; } = [];
        internal Dictionary<string, List<LinearSlot>> Groups { get; } = new(StringComparer.Ordinal);

        internal Builder(long cap) => _cap = cap;

        /// <summary>Floats so far, tensors and gaps (some value above the cap once past it).</summary>
        public long Length { get; private set; }

        /// <summary>A linear layer in group: name.weight [outputs, inputs], then name.bias [outputs].</summary>
        public LinearSlot Linear(string group, string name, int inputs, int outputs)
        {
            int weight = Add($"{name}.weight", [outputs, inputs], inputs);
            int bias = Add($"{name}.bias", [outputs], inputs);
            return Slot(group, new LinearSlot(name, inputs, outputs, weight, bias));
        }

        /// <summary>
        /// The Gaussian posterior's two heads as ONE linear layer of 2 * latent outputs: mu.weight is rows
        /// [0, L) and logvar.weight rows [L, 2L) of its weight, back to back with no gap, biases likewise,
        /// so one GEMM produces the contract's stats matrix (mu | logvar) directly.
        /// </summary>
        public LinearSlot Heads(string group, string mu, string logvar, int inputs, int latent)
        {
            int weight = Add($"{mu}.weight", [latent, inputs], inputs);
            Add($"{logvar}.weight", [latent, inputs], inputs, aligned: false);
            int bias = Add($"{mu}.bias", [latent], inputs);
            Add($"{logvar}.bias", [latent], inputs, aligned: false);
            return Slot(group, new LinearSlot($"{mu}|{logvar}", inputs, 2 * latent, weight, bias));
        }

        /// <summary>
        /// A convolution in group: name.weight [outChannels, kernel, kernel, inChannels] (channels last, so a
        /// row is one im2col column block), name.bias [outChannels]; as a linear slot In = kernel^2 inChannels.
        /// </summary>
        public LinearSlot Convolution(string group, string name, int inChannels, int outChannels, int kernel)
        {
            int fanIn = kernel * kernel * inChannels;
            int weight = Add($"{name}.weight", [outChannels, kernel, kernel, inChannels], fanIn);
            int bias = Add($"{name}.bias", [outChannels], fanIn);
            return Slot(group, new LinearSlot(name, fanIn, outChannels, weight, bias));
        }

        /// <summary>
        /// A transposed convolution in group: name.weight [kernel, kernel, outChannels, inChannels] (u W^T gives
        /// the columns that col2im scatters), name.bias [outChannels]; as a linear slot In = inChannels,
        /// Out = kernel^2 outChannels, and its bias (of outChannels, not Out) added after col2im.
        /// PyTorch's ConvTranspose2d initialises from fan-in outChannels * kernel^2; so does this.
        /// </summary>
        public LinearSlot TransposedConvolution(string group, string name, int inChannels, int outChannels, int kernel)
        {
            int fanIn = kernel * kernel * outChannels;
            int weight = Add($"{name}.weight", [kernel, kernel, outChannels, inChannels], fanIn);
            int bias = Add($"{name}.bias", [outChannels], fanIn);
            return Slot(group, new LinearSlot(name, inChannels, kernel * kernel * outChannels, weight, bias));
        }

        private LinearSlot Slot(string group, LinearSlot slot)
        {
            if (!Groups.TryGetValue(group, out var slots)) Groups[group] = slots = [];
            slots.Add(slot);
            return slot;
        }

        private int Add(string name, int[] shape, int fanIn, bool aligned = true)
        {
            long length = 1;
            foreach (int d in shape) length *= d;
            if (Length > _cap) return 0;
            long offset = aligned ? (Length + Alignment - 1) / Alignment * Alignment : Length;
            Length = offset + length;
            if (Length > int.MaxValue - Alignment) return 0; // measured only: ParameterLayout refuses it
            if (Tensors.Any(t => t.Name == name)) throw new ArgumentException($"the layout names tensor '{name}' twice");
            Tensors.Add(new ParameterTensor(name, shape, (int)offset, (int)length, fanIn));
            return (int)offset;
        }
    }
}
