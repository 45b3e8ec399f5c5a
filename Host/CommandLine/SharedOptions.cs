using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;

namespace IlgpuVae.Host.CommandLine;

/// <summary>A model file that is missing or not a model: exit code 3, like a data error.</summary>
public sealed class ModelFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Options and argument handling that several commands share.</summary>
public static class SharedOptions
{
    public const string DeviceHelp = "cpu, ilgpu-cpu, cuda[:N], opencl[:N] or auto (the first CUDA GPU, else the first OpenCL GPU, else cpu)";

    public static OptionSpec DeviceOption(string fallback = "cpu") => new("--device", "D", $"device: {DeviceHelp}", fallback);

    /// <summary>Opens the device of --device; a malformed specifier is a usage error, a missing device a device error.</summary>
    public static Accelerator OpenDevice(ParsedOptions options, string fallback = "cpu")
    {
        string spec = options.String("--device", fallback);
        try { return Devices.Open(spec); }
        catch (ArgumentException e) { throw new UsageException($"option '--device': {e.Message}"); }
    }

    /// <summary>Loads --model; a missing or malformed file becomes a <see cref="ModelFileException"/>.</summary>
    public static VaeModel LoadModel(string path)
    {
        VaeModel model;
        try { model = VaeModelFile.Load(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ModelFileException(e.Message, e);
        }
        RefuseNonFinite(path, model.Config, model.Parameters);
        return model;
    }

    /// <summary>Refuses a GAN for a command that needs an encoder (reconstruct, denoise, gradvar, evaluate).</summary>
    public static void RequireEncoder(VaeModel model, string path, string command)
    {
        if (!ModelKinds.IsVae(model.Config.Kind))
            throw new UsageException($"'{command}' needs a VAE; '{path}' is a {ModelKinds.Of(model.Config.Kind).Name} model, which has no encoder " +
                "(it samples: 'ilgpu-vae sample --model ...')");
    }

    /// <summary>
    /// A model with a NaN or an infinity (the state of a run that diverged) is a malformed model file:
    /// its images would be blank or NaN, so it is refused with the file and the tensor named.
    /// </summary>
    public static void RefuseNonFinite(string path, VaeConfig config, ReadOnlySpan<float> parameters)
    {
        if (NonFiniteValues.Find(new ParameterLayout(config), parameters) is { } bad)
            throw new ModelFileException($"model file '{path}': {bad}: the parameters of a diverged run, which no command uses " +
                "(train again with a smaller --lr)");
    }

    /// <summary>
    /// An output path whose directory exists (created if needed). A symbolic link is fine (the file it
    /// names is written); a directory, a FIFO or a device is refused, since the atomic write would
    /// replace the node itself.
    /// </summary>
    public static string OutputPath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw ParsedOptions.Bad("--out", path, "a file name such as samples.png");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"option '--out': '{path}' is a directory; expected a file name such as samples.png");
        if (AtomicFileWriter.WhyNotReplaceable(full) is { } problem)
            throw new UsageException($"option '--out': '{path}' {problem}; expected a regular file such as samples.png");
        string directory = Path.GetDirectoryName(full)!;
        try { Directory.CreateDirectory(directory); }
        catch (IOException e) { throw new UsageException($"option '--out': cannot create the directory of '{path}': {e.Message}"); }
        return full;
    }
}
