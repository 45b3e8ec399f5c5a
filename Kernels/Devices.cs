using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Kernels;

/// <summary>
/// One device of one backend, as `ilgpu-vae devices` lists it. IsGpu is what `auto` looks for;
/// TypeName is the device's kind in words ("CPU", "GPU", and for OpenCL also "accelerator", "custom"
/// or several of them, e.g. "GPU+accelerator").
/// </summary>
public sealed record DeviceInfo(
    BackendKind Kind, int Index, string Specifier, string Name, string Platform,
    long MemoryBytes, int ComputeUnits, bool IsGpu, string Details)
{
    public string TypeName { get; init; } = IsGpu ? "GPU" : "CPU";
}

/// <summary>A backend's view of its devices: what is there, and why nothing is when nothing is.</summary>
public interface IBackendProvider
{
    BackendKind Kind { get; }

    /// <summary>
    /// The devices of this backend. Never throws for a missing driver or library: returns an empty list
    /// and sets unavailableReason (e.g. "libOpenCL.so.1 not found").
    /// </summary>
    IReadOnlyList<DeviceInfo> Enumerate(out string? unavailableReason);

    /// <summary>Opens device number index of this backend (throws DeviceUnavailableException with the reason).</summary>
    Accelerator Open(int index);
}

/// <summary>Thrown when a requested device or backend cannot be opened; the message says why and what to do.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The device registry: lists every device of every backend and opens one from a specifier
/// cpu | opencl[:N] | cuda[:N] | auto.
/// </summary>
public static class Devices
{
    public static IReadOnlyList<IBackendProvider> Providers { get; } =
    [
        new CpuProvider(),
        new OpenCL.OpenCLProvider(),
        new Cuda.CudaProvider(),
    ];

    public static IBackendProvider Provider(BackendKind kind) => Providers.First(p => p.Kind == kind);

    /// <summary>The backend's name as users write it in prose: CPU, OpenCL, CUDA.</summary>
    public static string DisplayName(BackendKind kind) => kind switch
    {
        BackendKind.Cpu => "CPU",
        BackendKind.Cuda => "CUDA",
        _ => kind.ToString(),
    };

    /// <summary>
    /// Opens a device. "auto" takes the first CUDA device, else the first OpenCL GPU, else the CPU
    /// accelerator (an OpenCL CPU device such as PoCL is not faster than the managed CPU accelerator).
    /// </summary>
    public static Accelerator Open(string specifier)
    {
        ArgumentNullException.ThrowIfNull(specifier);
        string spec = specifier.Trim().ToLowerInvariant();
        if (spec == "auto") return OpenAuto();
        string backend = spec, indexText = "0";
        int colon = spec.IndexOf(':');
        if (colon >= 0) { backend = spec[..colon]; indexText = spec[(colon + 1)..]; }
        if (!int.TryParse(indexText, out int index) || index < 0)
            throw new ArgumentException($"device '{specifier}': '{indexText}' is not a device number (expected cpu, opencl[:N], cuda[:N] or auto)");
        BackendKind kind = backend switch
        {
            "cpu" => BackendKind.Cpu,
            "opencl" or "cl" => BackendKind.OpenCL,
            "cuda" => BackendKind.Cuda,
            _ => throw new ArgumentException($"device '{specifier}': unknown backend '{backend}' (expected cpu, opencl[:N], cuda[:N] or auto)"),
        };
        var provider = Provider(kind);
        var devices = provider.Enumerate(out string? reason);
        if (devices.Count == 0)
            throw new DeviceUnavailableException($"device '{specifier}': the {DisplayName(kind)} backend is unavailable: {reason ?? "no devices"}");
        if (index >= devices.Count)
            throw new DeviceUnavailableException($"device '{specifier}': the {DisplayName(kind)} backend has {devices.Count} device(s), numbered 0 to {devices.Count - 1}");
        return provider.Open(index);
    }

    private static Accelerator OpenAuto()
    {
        foreach (var kind in new[] { BackendKind.Cuda, BackendKind.OpenCL })
        {
            var provider = Provider(kind);
            var devices = provider.Enumerate(out _);
            var gpu = devices.FirstOrDefault(d => d.IsGpu);
            if (gpu is null) continue;
            try { return provider.Open(gpu.Index); }
            catch (DeviceUnavailableException) { /* fall through to the next backend */ }
        }
        return new CpuAccelerator();
    }

    private sealed class CpuProvider : IBackendProvider
    {
        public BackendKind Kind => BackendKind.Cpu;

        public IReadOnlyList<DeviceInfo> Enumerate(out string? unavailableReason)
        {
            unavailableReason = null;
            long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return [new DeviceInfo(BackendKind.Cpu, 0, "cpu", $"CPU accelerator ({CpuFeatures.Describe()})", "managed .NET",
                memory, Environment.ProcessorCount, false, $"{Environment.ProcessorCount} threads")];
        }

        public Accelerator Open(int index) => new CpuAccelerator();
    }
}
