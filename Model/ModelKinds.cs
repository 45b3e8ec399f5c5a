using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>The models this program trains. The names are what files record (vae.kind) and options take.</summary>
public enum ModelKind { Mlp = 0, Conditional = 1, Hierarchical = 2, Conv = 3, Gan = 4 }

/// <summary>
/// What the program knows of a model kind: its name, its tensors (described to a layout builder) and how
/// to build its network. A new model is one file of forward and backward plus a line here.
/// </summary>
public sealed record ModelKindInfo(ModelKind Kind, string Name, string Summary,
    Action<ParameterLayout.Builder, VaeConfig> DescribeLayout,
    Func<Accelerator, VaeConfig, int, float[], IVaeModel> Create);

public static class ModelKinds
{
    private static readonly ModelKindInfo[] All =
    [
        new(ModelKind.Mlp, "mlp", "the MLP VAE of the PyTorch examples: q(z|x), p(x|z)",
            (b, c) => VaeNetwork.DescribeLayout(b, c, labelWidth: 0),
            (acc, c, capacity, p) => new VaeNetwork(acc, c, capacity, p)),
        new(ModelKind.Conditional, "conditional", "the conditional VAE: q(z|x,y), p(x|z,y) with y the one-hot class label",
            (b, c) => VaeNetwork.DescribeLayout(b, c, labelWidth: c.Classes),
            (acc, c, capacity, p) => new ConditionalVaeNetwork(acc, c, capacity, p)),
        new(ModelKind.Hierarchical, "hierarchical", "two stochastic layers z1, z2 with the Ladder VAE's top-down inference",
            HierarchicalVaeNetwork.DescribeLayout,
            (acc, c, capacity, p) => new HierarchicalVaeNetwork(acc, c, capacity, p)),
        new(ModelKind.Conv, "conv", "convolutional encoder and decoder (4x4 stride-2 convolutions, transposed in the decoder)",
            ConvVaeNetwork.DescribeLayout,
            (acc, c, capacity, p) => new ConvVaeNetwork(acc, c, capacity, p)),
        new(ModelKind.Gan, "gan", "a GAN beside the VAEs: an MLP generator G(z) and discriminator D(x) (Goodfellow et al. 2014)",
            GanNetwork.DescribeLayout,
            (acc, c, capacity, p) => throw new NotSupportedException("a GAN has no encoder: it samples, but does not encode, reconstruct or denoise")),
    ];

    public static ModelKindInfo Of(ModelKind kind) => All.FirstOrDefault(k => k.Kind == kind)
        ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind");

    /// <summary>The kind named (case-insensitive), or null.</summary>
    public static ModelKind? Parse(string name) =>
        All.FirstOrDefault(k => string.Equals(k.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))?.Kind;

    /// <summary>"mlp, conditional": the names, for messages and help.</summary>
    public static string Names => string.Join(", ", All.Select(k => k.Name));

    public static IReadOnlyList<ModelKindInfo> Kinds => All;

    /// <summary>Whether the kind has an encoder and a decoder (every kind but the GAN).</summary>
    public static bool IsVae(ModelKind kind) => kind != ModelKind.Gan;

    /// <summary>The network of config's kind on an accelerator, with the given parameters (the layout's length).</summary>
    public static IVaeModel Create(Accelerator accelerator, VaeConfig config, int capacity, float[] parameters) =>
        Of(config.Kind).Create(accelerator, config, capacity, parameters);

    /// <summary>The network of config's kind with PyTorch-style initial parameters drawn from seed.</summary>
    public static IVaeModel Create(Accelerator accelerator, VaeConfig config, int capacity, ulong seed) =>
        Create(accelerator, config, capacity, ParameterInitializer.Create(new ParameterLayout(config), seed));
}
