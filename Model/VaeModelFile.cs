namespace IlgpuVae.Model;

/// <summary>A trained model as a file holds it: the configuration, the flat parameters, and free-form metadata.</summary>
public sealed record VaeModel(VaeConfig Config, float[] Parameters, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Model files: safetensors with one tensor per named view of the parameter layout (so PyTorch's
/// load_state_dict can take the default model's tensors as they are) and the <see cref="VaeConfig"/>
/// in the header's metadata, so the file alone rebuilds the network.
/// </summary>
public static class VaeModelFile
{
    public const string FormatKey = "format";
    public const string FormatValue = "ilgpu-vae";

    /// <summary>
    /// Writes the model atomically; extra metadata (seed, steps, ...) is stored beside the configuration,
    /// and extra tensors (a checkpoint's optimiser state) after the model's.
    /// </summary>
    public static void Save(string path, VaeConfig config, ReadOnlySpan<float> parameters, IReadOnlyDictionary<string, string>? extra = null,
        IReadOnlyList<SafeTensor>? extraTensors = null)
    {
        var layout = new ParameterLayout(config);
        if (parameters.Length != layout.Length)
            throw new ArgumentException($"parameters have {parameters.Length} floats; {config.Describe()} needs {layout.Length}", nameof(parameters));
        var tensors = new List<SafeTensor>(layout.Tensors.Count);
        foreach (var t in layout.Tensors)
            tensors.Add(new SafeTensor(t.Name, (int[])t.Shape.Clone(), parameters.Slice(t.Offset, t.Length).ToArray()));
        if (extraTensors is not null) tensors.AddRange(extraTensors);

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (extra is not null) foreach (var (key, value) in extra) metadata[key] = value;
        foreach (var (key, value) in config.ToMetadata()) metadata[key] = value;
        metadata[FormatKey] = FormatValue;
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Reads a model written by <see cref="Save"/>. A missing file is a FileNotFoundException; anything
    /// else wrong (not safetensors, no configuration, a tensor missing or of the wrong shape) is an
    /// InvalidDataException naming the file and the problem.
    /// </summary>
    public static VaeModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        return FromFile(path, SafeTensors.Read(path));
    }

    /// <summary>The model in a safetensors file already read (tensors beyond the model's are ignored).</summary>
    public static VaeModel FromFile(string path, SafeTensorFile file)
    {
        VaeConfig config;
        try { config = VaeConfig.FromMetadata(file.Metadata); }
        catch (FormatException e) { throw new InvalidDataException($"model file '{path}': {e.Message}", e); }

        var layout = new ParameterLayout(config);
        var parameters = new float[layout.Length];
        var byName = file.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var t in layout.Tensors)
        {
            if (!byName.TryGetValue(t.Name, out var tensor))
                throw new InvalidDataException($"model file '{path}' lacks tensor '{t.Name}' that a {config.Describe()} model needs");
            if (!tensor.Shape.SequenceEqual(t.Shape))
                throw new InvalidDataException($"model file '{path}': tensor '{t.Name}' has shape [{string.Join(", ", tensor.Shape)}]; " +
                    $"the configuration {config.Describe()} needs [{string.Join(", ", t.Shape)}]");
            tensor.Data.CopyTo(parameters, t.Offset);
        }
        var extras = file.Metadata.Where(p => !p.Key.StartsWith("vae.", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return new VaeModel(config, parameters, extras);
    }
}
