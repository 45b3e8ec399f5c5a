using IlgpuVae.Model.IO;

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
    /// else wrong (not safetensors, not a regular file, no configuration, a model too large for one
    /// buffer, a tensor missing or of the wrong shape) is an InvalidDataException naming the file and
    /// the problem. The configuration and the tensor shapes are checked from the header, before any
    /// tensor data is read or the parameter buffer allocated.
    /// </summary>
    public static VaeModel Load(string path)
    {
        if (FileKinds.Of(path) == FileKind.Missing) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        return FromFile(path, SafeTensors.Read(path, header => CheckHeader(path, header)));
    }

    /// <summary>A model from a seekable stream holding a model file; <paramref name="name"/> is what messages call it.</summary>
    public static VaeModel Load(Stream stream, string name) =>
        FromFile(name, SafeTensors.Read(stream, name, header => CheckHeader(name, header)));

    /// <summary>
    /// Checks that a safetensors header describes a model this program can rebuild: a valid
    /// configuration that fits one parameter buffer, and every tensor of its layout with its shape.
    /// Returns the configuration.
    /// </summary>
    public static VaeConfig CheckHeader(string path, SafeTensorHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        VaeConfig config;
        try
        {
            // A state dict saved from PyTorch has none of our metadata: its shapes say what it is.
            config = header.Metadata.ContainsKey("vae.input")
                ? VaeConfig.FromMetadata(header.Metadata)
                : PyTorchStateDict.Infer(header) ?? VaeConfig.FromMetadata(header.Metadata);
        }
        catch (FormatException e) { throw new InvalidDataException($"model file '{path}': {e.Message}", e); }

        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var tensor in header.Tensors) shapes[tensor.Name] = tensor.Shape;
        foreach (var t in new ParameterLayout(config).Tensors)
        {
            if (!shapes.TryGetValue(t.Name, out var shape))
                throw new InvalidDataException($"model file '{path}' lacks tensor '{t.Name}' that a {config.Describe()} model needs");
            if (!shape.SequenceEqual(t.Shape))
                throw new InvalidDataException($"model file '{path}': tensor '{t.Name}' has shape [{string.Join(", ", shape)}]; " +
                    $"the configuration {config.Describe()} needs [{string.Join(", ", t.Shape)}]");
        }
        return config;
    }

    /// <summary>The model in a safetensors file already read (tensors beyond the model's are ignored).</summary>
    public static VaeModel FromFile(string path, SafeTensorFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        // The same checks as before the data was read: a file read without them is checked here.
        VaeConfig config = CheckHeader(path, new SafeTensorHeader([.. file.Tensors.Select(t => new SafeTensorInfo(t.Name, t.Shape))], file.Metadata));
        var layout = new ParameterLayout(config);
        var parameters = new float[layout.Length];
        var byName = file.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var t in layout.Tensors)
            byName[t.Name].Data.CopyTo(parameters, t.Offset);
        var extras = file.Metadata.Where(p => !p.Key.StartsWith("vae.", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return new VaeModel(config, parameters, extras);
    }
}
