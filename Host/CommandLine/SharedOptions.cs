using IlgpuVae.Kernels;
using IlgpuVae.Model;

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
        try { return VaeModelFile.Load(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ModelFileException(e.Message, e);
        }
    }

    /// <summary>An output path whose directory exists (created if needed).</summary>
    public static string OutputPath(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"option '--out': '{path}' is a directory; expected a file name such as samples.png");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return full;
    }
}
