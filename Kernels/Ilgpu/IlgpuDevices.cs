using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// One device that ILGPU reports, numbered within its backend (cuda:N, opencl:N), with the reason ILGPU
/// cannot run kernels on it (null when it can).
/// </summary>
public sealed record IlgpuDeviceEntry(BackendKind Kind, int Index, Device Device, string? UnusableReason)
{
    public string Specifier => $"{(Kind == BackendKind.Cuda ? "cuda" : "opencl")}:{Index}";
    public bool IsUsable => UnusableReason is null;
}

/// <summary>
/// The CUDA and OpenCL devices as ILGPU sees them, and the ILGPU contexts that open them. Every device is
/// listed, also those ILGPU cannot use, with ILGPU's own rule for why: the same tests its Cuda() and
/// OpenCL() builders apply when they silently leave a device out.
/// </summary>
public static class IlgpuDevices
{
    /// <summary>Why an OpenCL device is refused, in the words `devices` and `--device` errors use.</summary>
    public const string OpenCLRequirement = "ILGPU needs OpenCL 2.0+, or 3.0 with generic address space";

    /// <summary>Every CUDA device the driver reports, in driver order (cuda:0, cuda:1, ...).</summary>
    public static IReadOnlyList<IlgpuDeviceEntry> ListCuda(out string? unavailableReason)
    {
        IlgpuNativeLibraries.EnsureInstalled();
        var devices = CudaDevice.GetDevices(_ => true).OfType<CudaDevice>().ToArray();
        unavailableReason = devices.Length == 0 ? CudaDriverProbe.WhyNoDevices() : null;
        return devices.Select((d, i) => new IlgpuDeviceEntry(BackendKind.Cuda, i, d, WhyCudaUnusable(d))).ToArray();
    }

    /// <summary>Every OpenCL device of every platform, numbered across platforms in order (opencl:0, ...).</summary>
    public static IReadOnlyList<IlgpuDeviceEntry> ListOpenCL(out string? unavailableReason)
    {
        IlgpuNativeLibraries.EnsureInstalled();
        var devices = CLDevice.GetDevices(_ => true).OfType<CLDevice>().ToArray();
        unavailableReason = devices.Length == 0 ? WhyNoOpenCLDevices() : null;
        return devices.Select((d, i) => new IlgpuDeviceEntry(BackendKind.OpenCL, i, d, WhyOpenCLUnusable(d))).ToArray();
    }

    /// <summary>
    /// ILGPU's OpenCL rule (CLContextExtensions.OpenCL()): OpenCL C 2.0 or newer and generic address
    /// space, which 2.x devices always have and 3.0 devices may leave out (Debian 12's PoCL 3.1 does).
    /// </summary>
    public static string? WhyOpenCLUnusable(CLDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.CLStdVersion < CLBackend.MinimumVersion)
            return $"OpenCL {device.DeviceVersion} (OpenCL C {Version(device.CLStdVersion)}): {OpenCLRequirement}";
        if (!device.Capabilities.GenericAddressSpace)
            return $"OpenCL {device.DeviceVersion} without generic address space (no __opencl_c_generic_address_space): {OpenCLRequirement}";
        return null;
    }

    /// <summary>
    /// ILGPU's CUDA rule (CudaContextExtensions.Cuda()): a compute capability ILGPU knows and a PTX ISA,
    /// supported by the driver, that its PTX backend emits.
    /// </summary>
    public static string? WhyCudaUnusable(CudaDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        string driver = $"{device.DriverVersion.Major}.{device.DriverVersion.Minor}";
        if (device.Architecture is not { } arch)
            return $"its compute capability is newer than ILGPU {IlgpuVersion} knows (driver CUDA {driver})";
        if (device.InstructionSet is not { } isa)
            return $"no PTX ISA that both sm_{arch.Major}{arch.Minor} and the driver (CUDA {driver}) support is known to ILGPU {IlgpuVersion}";
        if (!PTXCodeGenerator.SupportedInstructionSets.Contains(isa))
            return $"PTX ISA {isa.Major}.{isa.Minor} (sm_{arch.Major}{arch.Minor}, driver CUDA {driver}) is not one ILGPU's PTX backend emits";
        return null;
    }

    /// <summary>
    /// A context for one device, with the project's ILGPU settings, and the device as registered in it.
    /// On WSL 2 ILGPU's Cuda() builder would install a resolver of its own and throw, since ours is
    /// installed (and knows WSL's libcuda), so there the listed device itself is used unregistered.
    /// </summary>
    public static (Context Context, Device Device) CreateContext(IlgpuDeviceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        IlgpuNativeLibraries.EnsureInstalled();
        switch (entry.Device)
        {
            case CudaDevice cuda when !IlgpuNativeLibraries.IsWsl:
            {
                var context = Context.Create(b => Configure(b).Cuda(d => d.DeviceId == cuda.DeviceId));
                return (context, First(context.GetCudaDevices()) ?? cuda);
            }
            case CLDevice cl:
            {
                var context = Context.Create(b => Configure(b).OpenCL(d => d.PlatformId == cl.PlatformId && d.DeviceId == cl.DeviceId));
                return (context, First(context.GetCLDevices()) ?? cl);
            }
            default:
                return (Context.Create(b => Configure(b)), entry.Device);
        }
    }

    private static TDevice? First<TDevice>(Context.DeviceCollection<TDevice> devices) where TDevice : Device
    {
        foreach (var device in devices) return device;
        return null;
    }

    /// <summary>The ILGPU settings of every context the program makes: one source, <see cref="IlgpuAccelerator.ConfigureContext"/>.</summary>
    public static Context.Builder Configure(Context.Builder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return IlgpuAccelerator.ConfigureContext(builder);
    }

    /// <summary>Opens a listed device: an <see cref="IlgpuAccelerator"/> that owns its own context.</summary>
    public static Accelerator Open(IlgpuDeviceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.UnusableReason is { } reason)
            throw new DeviceUnavailableException($"{entry.Specifier} ({entry.Device.Name}) cannot be used: {reason}");
        Context? context = null;
        try
        {
            (context, Device device) = CreateContext(entry);
            return new IlgpuAccelerator(context, device, entry.Kind, entry.Specifier);
        }
        catch (Exception e) when (e is not DeviceUnavailableException)
        {
            // A driver error while creating the context or the accelerator (out of memory, a busy or
            // exclusive-process GPU): a device error with the driver's words, like a missing device.
            context?.Dispose();
            throw new DeviceUnavailableException($"{entry.Specifier} ({entry.Device.Name}) could not be opened: {e.Message}", e);
        }
    }

    /// <summary>The ILGPU version in use, e.g. 1.5.3.</summary>
    public static string IlgpuVersion { get; } = typeof(Context).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "?";

    private static string Version(CLCVersion version) => version.ToString().Replace("CL", "", StringComparison.Ordinal);

    private static string WhyNoOpenCLDevices()
    {
        if (!IlgpuNativeLibraries.TryLoad("OpenCL", out _))
            return $"no OpenCL ICD loader ({string.Join(", ", IlgpuNativeLibraries.NamesTried("OpenCL"))} not found)";
        return "the OpenCL ICD loader lists no platform with an available device (no driver under /etc/OpenCL/vendors?)";
    }
}
