using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Kernels;

/// <summary>
/// One device of one backend, as `ilgpu-vae devices` lists it. IsGpu is what `auto` looks for;
/// TypeName is the device's kind in words ("CPU", "GPU", and for OpenCL also "accelerator", "custom"
/// or several of them, e.g. "GPU+accelerator"). UnusableReason is set for a device the backend reports
/// but cannot run the kernels on (e.g. an OpenCL 3.0 device without generic address space): it is
/// listed, so a user sees why, and refused when opened.
/// </summary>
public sealed record DeviceInfo(
    BackendKind Kind, int Index, string Specifier, string Name, string Platform,
    long MemoryBytes, int ComputeUnits, bool IsGpu, string Details)
{
    public string TypeName { get; init; } = IsGpu ? "GPU" : "CPU";

    /// <summary>Why the device cannot be used, or null when it can.</summary>
    public string? UnusableReason { get; init; }

    public bool IsUsable => UnusableReason is null;
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
/// cpu | ilgpu-cpu | cuda[:N] | opencl[:N] | auto. CUDA and OpenCL run through ILGPU.
/// </summary>
public static class Devices
{
    /// <summary>The specifiers in words, for usage errors and help.</summary>
    public const string SpecifierForms = "cpu, ilgpu-cpu, cuda[:N], opencl[:N] or auto";

    /// <summary>The backends `devices` lists and `--device` reaches, in the order they are listed.</summary>
    public static IReadOnlyList<IBackendProvider> Providers { get; } =
    [
        new CpuProvider(),
        new Ilgpu.IlgpuCpuProvider(),
        new Ilgpu.IlgpuCudaProvider(),
        new Ilgpu.IlgpuOpenCLProvider(),
    ];

    public static IBackendProvider Provider(BackendKind kind) => Providers.First(p => p.Kind == kind);

    /// <summary>The backend's name as users write it in prose: CPU, ILGPU CPU, OpenCL, CUDA.</summary>
    public static string DisplayName(BackendKind kind) => kind switch
    {
        BackendKind.Cpu => "CPU",
        BackendKind.IlgpuCpu => "ILGPU CPU",
        BackendKind.Cuda => "CUDA",
        _ => kind.ToString(),
    };

    /// <summary>
    /// Opens a device. "auto" takes the first usable CUDA device, else the first usable OpenCL GPU, else
    /// the CPU backend (an OpenCL CPU device is not faster than the managed CPU backend). A bare "cuda" or
    /// "opencl" takes the first device of that backend that ILGPU can use; "cuda:N", "opencl:N" exactly
    /// device N. A device that is missing or that ILGPU cannot use is a DeviceUnavailableException that
    /// says why; a malformed specifier an ArgumentException.
    /// </summary>
    public static Accelerator Open(string specifier)
    {
        ArgumentNullException.ThrowIfNull(specifier);
        string spec = specifier.Trim().ToLowerInvariant();
        if (spec == "auto") return OpenAuto();
        string backend = spec, indexText = "0";
        int colon = spec.IndexOf(':');
        bool explicitIndex = colon >= 0;
        if (explicitIndex) { backend = spec[..colon]; indexText = spec[(colon + 1)..]; }
        if (!int.TryParse(indexText, out int index) || index < 0)
            throw new ArgumentException($"device '{specifier}': '{indexText}' is not a device number (expected {SpecifierForms})");
        BackendKind kind = backend switch
        {
            "cpu" => BackendKind.Cpu,
            "ilgpu-cpu" => BackendKind.IlgpuCpu,
            "opencl" or "cl" => BackendKind.OpenCL,
            "cuda" => BackendKind.Cuda,
            _ => throw new ArgumentException($"device '{specifier}': unknown backend '{backend}' (expected {SpecifierForms})"),
        };
        var provider = Provider(kind);
        var devices = provider.Enumerate(out string? reason);
        string name = DisplayName(kind);
        if (devices.Count == 0)
            throw new DeviceUnavailableException($"device '{specifier}': the {name} backend is unavailable: {reason ?? "no devices"}");
        if (index >= devices.Count)
            throw new DeviceUnavailableException($"device '{specifier}': the {name} backend has {devices.Count} device(s), numbered 0 to {devices.Count - 1}");
        if (!explicitIndex && !devices[0].IsUsable)
        {
            // A bare backend name means "a device of that backend": the first one that can run the kernels.
            var usable = devices.FirstOrDefault(d => d.IsUsable);
            if (usable is null)
                throw new DeviceUnavailableException($"device '{specifier}': no {name} device can be used: " +
                    string.Join("; ", devices.Select(d => $"{d.Specifier} ({d.Name}): {d.UnusableReason}")));
            index = usable.Index;
        }
        if (devices[index].UnusableReason is { } why)
            throw new DeviceUnavailableException($"device '{specifier}': {devices[index].Specifier} ({devices[index].Name}) cannot be used: {why}");
        try
        {
            return provider.Open(index);
        }
        catch (DeviceUnavailableException e)
        {
            throw new DeviceUnavailableException($"device '{specifier}': {e.Message}", e.InnerException ?? e);
        }
    }

    /// <summary>The specifier "auto" resolves to on this machine, without opening it (`devices` shows it).</summary>
    public static string ResolveAuto()
    {
        foreach (var kind in new[] { BackendKind.Cuda, BackendKind.OpenCL })
        {
            var gpu = TryEnumerate(Provider(kind)).FirstOrDefault(d => d.IsGpu && d.IsUsable);
            if (gpu is not null) return gpu.Specifier;
        }
        return "cpu";
    }

    private static Accelerator OpenAuto()
    {
        foreach (var kind in new[] { BackendKind.Cuda, BackendKind.OpenCL })
        {
            var provider = Provider(kind);
            foreach (var gpu in TryEnumerate(provider).Where(d => d.IsGpu && d.IsUsable))
            {
                try { return provider.Open(gpu.Index); }
                catch (DeviceUnavailableException) { /* the next GPU, then the next backend */ }
            }
        }
        return new CpuAccelerator();
    }

    /// <summary>A backend's devices; an enumeration that throws counts as none (auto then looks further).</summary>
    private static IReadOnlyList<DeviceInfo> TryEnumerate(IBackendProvider provider)
    {
        try { return provider.Enumerate(out _); }
        catch (Exception e) when (e is not OutOfMemoryException) { return []; }
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
