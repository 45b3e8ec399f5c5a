using System.Globalization;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The shape and loss of a VAE: an MLP encoder input -> hidden... -> (mu | logvar) of Latent, and the
/// mirrored decoder latent -> hidden reversed... -> input logits. The defaults are the PyTorch examples
/// VAE (784-400-20-400-784, ReLU, Bernoulli). <see cref="Kind"/> says which model of that family
/// (<see cref="ModelKinds"/>). Saved in the model file's metadata, so a model file alone is enough to
/// sample from it.
/// </summary>
public sealed record VaeConfig
{
    public const string DefaultHidden = "400";

    /// <summary>Which model: the plain MLP VAE, or the conditional one (q(z|x,y), p(x|z,y)).</summary>
    public ModelKind Kind { get; init; } = ModelKind.Mlp;

    /// <summary>Classes of the label y of a conditional model (one-hot beside x and z); 0 for the others.</summary>
    public int Classes { get; init; }

    /// <summary>
    /// A hierarchical model's second stochastic layer: the hidden widths between z1 (<see cref="Latent"/>)
    /// and z2, and z2's size (Burda et al.'s 100-100 and 50). Empty and 0 for the other kinds.
    /// </summary>
    public IReadOnlyList<int> TopHidden { get; init; } = [];
    public int TopLatent { get; init; }

    /// <summary>Features per sample (pixels of an image).</summary>
    public int Input { get; init; } = 784;

    /// <summary>Encoder hidden widths, first to last; the decoder uses them in reverse.</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [400];

    public int Latent { get; init; } = 20;
    public Likelihood Likelihood { get; init; } = Likelihood.Bernoulli;

    /// <summary>Weight of the KL term (beta-VAE; 1 is the plain ELBO).</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Fixed standard deviation of the Gaussian likelihood (unused for Bernoulli).</summary>
    public float Sigma { get; init; } = 1f;

    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>Image geometry for the PNG outputs; ImageHeight * ImageWidth must equal Input.</summary>
    public int ImageHeight { get; init; } = 28;
    public int ImageWidth { get; init; } = 28;

    public LossSettings LossSettings => new(Likelihood, Beta, Sigma);

    /// <summary>Throws an ArgumentException naming the first field that is out of range.</summary>
    public VaeConfig Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"unknown model kind {Kind}");
        if (Kind == ModelKind.Conditional && Classes is < 2 or > 256)
            throw new ArgumentException($"a conditional model needs 2..256 classes (got {Classes})");
        if (Kind != ModelKind.Conditional && Classes != 0)
            throw new ArgumentException($"only a conditional model has classes (a {ModelKinds.Of(Kind).Name} model got {Classes})");
        if (Kind == ModelKind.Hierarchical && (TopLatent <= 0 || TopHidden.Count == 0 || TopHidden.Any(h => h <= 0)))
            throw new ArgumentException($"a hierarchical model needs a top latent size > 0 and positive top hidden widths (got {TopLatent}, [{FormatHidden(TopHidden)}])");
        if (Kind != ModelKind.Hierarchical && (TopLatent != 0 || TopHidden.Count != 0))
            throw new ArgumentException($"only a hierarchical model has a second latent layer (a {ModelKinds.Of(Kind).Name} model got {TopLatent})");
        if (Input <= 0) throw new ArgumentException($"input size must be > 0 (got {Input})");
        if (Kind == ModelKind.Conv && ConvVaeNetwork.ShapeProblem(this) is { } conv) throw new ArgumentException(conv);
        if (Hidden.Count == 0) throw new ArgumentException("at least one hidden layer is needed");
        foreach (int h in Hidden)
            if (h <= 0) throw new ArgumentException($"hidden layer widths must be > 0 (got {FormatHidden(Hidden)})");
        if (Latent <= 0) throw new ArgumentException($"latent size must be > 0 (got {Latent})");
        if (Likelihood is not (Likelihood.Bernoulli or Likelihood.Gaussian))
            throw new ArgumentException($"unknown likelihood {Likelihood}");
        if (!(Beta >= 0) || float.IsInfinity(Beta)) throw new ArgumentException($"beta must be finite and >= 0 (got {Beta})");
        if (!(Sigma > 0) || float.IsInfinity(Sigma)) throw new ArgumentException($"sigma must be finite and > 0 (got {Sigma})");
        if (Activation is < Activation.Identity or > Activation.Sigmoid) throw new ArgumentException($"unknown activation {Activation}");
        if (ImageHeight <= 0 || ImageWidth <= 0 || (long)ImageHeight * ImageWidth != Input)
            throw new ArgumentException($"image {ImageHeight}x{ImageWidth} does not hold {Input} input features");
        if (TooLarge() is { } tooLarge) throw new ArgumentException(tooLarge);
        return this;
    }

    /// <summary>
    /// The most floats the flat parameter buffer may hold: it is one device buffer (so are the
    /// gradients and each Adam moment), and a device buffer holds at most Accelerator.MaxBufferLength.
    /// </summary>
    public const long MaxParameterBufferLength = Accelerator.MaxBufferLength;

    /// <summary>Null when the parameters fit one buffer; otherwise a sentence with the count and the limit.</summary>
    public string? TooLarge()
    {
        long length = ParameterLayout.FlatLength(this, cap: MaxParameterBufferLength);
        if (length <= MaxParameterBufferLength) return null;
        // Past the cap the walk stops early; count once more without it for the message.
        long total = ParameterLayout.FlatLength(this);
        string count = total >= long.MaxValue / 4 ? "more than 2^61" : total.ToString("N0", CultureInfo.InvariantCulture);
        return $"the model {Describe()} has {count} parameters (with alignment); one parameter buffer holds at most " +
               $"{MaxParameterBufferLength.ToString("N0", CultureInfo.InvariantCulture)} (Accelerator.MaxBufferLength floats)";
    }

    public static string FormatHidden(IEnumerable<int> hidden) => string.Join(",", hidden.Select(h => h.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// "784-400-20-400-784": the layer widths end to end; a conditional model shows the label's width
    /// beside the inputs it joins, "784+10-400-20+10-400-784".
    /// </summary>
    public string Describe()
    {
        if (Kind == ModelKind.Hierarchical)
        {
            // 784-200-200-[100]-100-100-[50]: the two stochastic layers in brackets.
            var up = new List<string> { Input.ToString(CultureInfo.InvariantCulture) };
            up.AddRange(Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture)));
            up.Add($"[{Latent.ToString(CultureInfo.InvariantCulture)}]");
            up.AddRange(TopHidden.Select(h => h.ToString(CultureInfo.InvariantCulture)));
            up.Add($"[{TopLatent.ToString(CultureInfo.InvariantCulture)}]");
            return string.Join("-", up);
        }
        if (Kind == ModelKind.Gan)
        {
            // gan 64-256-512-784 | 784-512-256-1: the generator, then the discriminator.
            string c(int w) => w.ToString(CultureInfo.InvariantCulture);
            return "gan " + string.Join("-", new[] { c(Latent) }.Concat(Hidden.Reverse().Select(c)).Append(c(Input))) + " | " +
                string.Join("-", new[] { c(Input) }.Concat(Hidden.Select(c)).Append("1"));
        }
        if (Kind == ModelKind.Conv)
        {
            // 784-conv32-conv64-20-deconv64-deconv32-784: 4x4 stride-2 convolutions, then their transposes.
            string c(int w) => w.ToString(CultureInfo.InvariantCulture);
            return string.Join("-", new[] { c(Input) }.Concat(Hidden.Select(h => "conv" + c(h))).Append(c(Latent))
                .Concat(Hidden.Reverse().Select(h => "deconv" + c(h))).Append(c(Input)));
        }
        string label = Classes > 0 ? "+" + Classes.ToString(CultureInfo.InvariantCulture) : "";
        var widths = new List<string> { Input.ToString(CultureInfo.InvariantCulture) + label };
        widths.AddRange(Hidden.Select(h => h.ToString(CultureInfo.InvariantCulture)));
        widths.Add(Latent.ToString(CultureInfo.InvariantCulture) + label);
        widths.AddRange(Hidden.Reverse().Select(h => h.ToString(CultureInfo.InvariantCulture)));
        widths.Add(Input.ToString(CultureInfo.InvariantCulture));
        return string.Join("-", widths);
    }

    // ------------------------------------------------------------------ metadata (safetensors header)

    private const string Prefix = "vae.";

    /// <summary>The configuration as string pairs for a safetensors header's __metadata__.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>(BaseMetadata()) { [Prefix + "kind"] = ModelKinds.Of(Kind).Name };
        if (Classes > 0) metadata[Prefix + "classes"] = Classes.ToString(CultureInfo.InvariantCulture);
        if (TopLatent > 0)
        {
            metadata[Prefix + "top_hidden"] = FormatHidden(TopHidden);
            metadata[Prefix + "top_latent"] = TopLatent.ToString(CultureInfo.InvariantCulture);
        }
        return metadata;
    }

    private Dictionary<string, string> BaseMetadata() => new()
    {
        [Prefix + "input"] = Input.ToString(CultureInfo.InvariantCulture),
        [Prefix + "hidden"] = FormatHidden(Hidden),
        [Prefix + "latent"] = Latent.ToString(CultureInfo.InvariantCulture),
        [Prefix + "likelihood"] = Likelihood.ToString().ToLowerInvariant(),
        [Prefix + "beta"] = Beta.ToString("R", CultureInfo.InvariantCulture),
        [Prefix + "sigma"] = Sigma.ToString("R", CultureInfo.InvariantCulture),
        [Prefix + "activation"] = Activation.ToString().ToLowerInvariant(),
        [Prefix + "image_height"] = ImageHeight.ToString(CultureInfo.InvariantCulture),
        [Prefix + "image_width"] = ImageWidth.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Reads a configuration written by <see cref="ToMetadata"/>; throws FormatException naming a missing or bad key.</summary>
    public static VaeConfig FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        string Get(string key) => metadata.TryGetValue(Prefix + key, out var value)
            ? value
            : throw new FormatException($"model metadata lacks '{Prefix + key}' (not a model file written by ilgpu-vae?)");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new FormatException($"model metadata '{Prefix + key}' = '{Get(key)}' is not an integer");
        float Float(string key) => float.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out float v)
            ? v : throw new FormatException($"model metadata '{Prefix + key}' = '{Get(key)}' is not a number");
        T Enum<T>(string key) where T : struct, System.Enum => System.Enum.TryParse(Get(key), ignoreCase: true, out T v) && System.Enum.IsDefined(v)
            ? v : throw new FormatException($"model metadata '{Prefix + key}' = '{Get(key)}' is not a {typeof(T).Name}");

        // Files written before there were kinds hold the MLP, and say nothing of it.
        ModelKind kind = metadata.TryGetValue(Prefix + "kind", out var kindName)
            ? ModelKinds.Parse(kindName) ?? throw new FormatException($"model metadata '{Prefix}kind' = '{kindName}' is not a model kind (expected {ModelKinds.Names})")
            : ModelKind.Mlp;
        var config = new VaeConfig
        {
            Kind = kind,
            Classes = kind == ModelKind.Conditional ? Int("classes") : 0,
            TopHidden = kind == ModelKind.Hierarchical ? ParseHidden(Get("top_hidden")) : [],
            TopLatent = kind == ModelKind.Hierarchical ? Int("top_latent") : 0,
            Input = Int("input"),
            Hidden = ParseHidden(Get("hidden")),
            Latent = Int("latent"),
            Likelihood = Enum<Likelihood>("likelihood"),
            Beta = Float("beta"),
            Sigma = Float("sigma"),
            Activation = Enum<Activation>("activation"),
            ImageHeight = Int("image_height"),
            ImageWidth = Int("image_width"),
        };
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"model metadata describes an invalid model: {e.Message}", e); }
    }

    /// <summary>Parses "400" or "512,256"; throws FormatException saying what was expected.</summary>
    public static int[] ParseHidden(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0)
                throw new FormatException($"'{text}' is not a list of positive layer widths (expected e.g. 400 or 512,256)");
        return widths;
    }

    // Records compare lists by reference; a configuration is equal by value.
    public bool Equals(VaeConfig? other) => other is not null
        && Kind == other.Kind && Classes == other.Classes && TopHidden.SequenceEqual(other.TopHidden) && TopLatent == other.TopLatent && Input == other.Input && Hidden.SequenceEqual(other.Hidden) && Latent == other.Latent
        && Likelihood == other.Likelihood && Beta.Equals(other.Beta) && Sigma.Equals(other.Sigma)
        && Activation == other.Activation && ImageHeight == other.ImageHeight && ImageWidth == other.ImageWidth;

    public override int GetHashCode() => HashCode.Combine(Input, FormatHidden(Hidden), Latent, Likelihood, Beta, Sigma, Activation,
        HashCode.Combine(Kind, Classes, ImageHeight * 65599 + ImageWidth, FormatHidden(TopHidden), TopLatent));
}
