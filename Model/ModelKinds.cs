using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>The models this program trains. The names are what files record (vae.kind) and options take.</summary>
public enum ModelKind { Mlp = 0, Conditional = 1 }

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
    ];

    public static ModelKindInfo Of(ModelKind kind) => All.FirstOrDefault(k => k.Kind == kind)
        ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind");

    /// <summary>The kind named (case-insensitive), or null.</summary>
    public static ModelKind? Parse(string name) =>
        All.FirstOrDefault(k => string.Equals(k.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))?.Kind;

    /// <summary>"mlp, conditional": the names, for messages and help.</summary>
    public static string Names => string.Join(", ", All.Select(k => k.Name));

    public static IReadOnlyList<ModelKindInfo> Kinds => All;

    /// <summary>The network of config's kind on an accelerator, with the given parameters (the layout's length).</summary>
    public static IVaeModel Create(Accelerator accelerator, VaeConfig config, int capacity, float[] parameters) =>
        Of(config.Kind).Create(accelerator, config, capacity, parameters);

    /// <summary>The network of config's kind with PyTorch-style initial parameters drawn from seed.</summary>
    public static IVaeModel Create(Accelerator accelerator, VaeConfig config, int capacity, ulong seed) =>
        Create(accelerator, config, capacity, ParameterInitializer.Create(new ParameterLayout(config), seed));
}
