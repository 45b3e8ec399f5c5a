namespace IlgpuVae.Kernels.OpenCL;

/// <summary>
/// The OpenCL backend's devices: every device of every installed platform, numbered opencl:0, opencl:1,
/// ... across platforms in order. A machine without an ICD loader or without a platform gets an empty
/// list and a reason, never an exception.
/// </summary>
internal sealed class OpenCLProvider : IBackendProvider
{
    public BackendKind Kind => BackendKind.OpenCL;

    public IReadOnlyList<DeviceInfo> Enumerate(out string? unavailableReason)
    {
        var entries = TryList(out unavailableReason);
        return entries.Select(e => e.ToDeviceInfo()).ToArray();
    }

    public Accelerator Open(int index)
    {
        var entries = TryList(out string? reason);
        if (entries.Count == 0) throw new DeviceUnavailableException($"OpenCL is unavailable: {reason}");
        if (index < 0 || index >= entries.Count)
            throw new DeviceUnavailableException($"opencl:{index} does not exist: OpenCL has {entries.Count} device(s), opencl:0 to opencl:{entries.Count - 1}");
        var entry = entries[index];
        if (!entry.SupportsOpenCLC12)
            throw new DeviceUnavailableException(entry.IsCustomOnly
                ? $"opencl:{index} ({entry.Name}) is a custom device (CL_DEVICE_TYPE_CUSTOM), which runs built-in kernels only; the kernels need OpenCL C 1.2"
                : $"opencl:{index} ({entry.Name}) compiles {entry.OpenCLCVersion}; the kernels need OpenCL C 1.2");
        try
        {
            return new OpenCLAccelerator(entry);
        }
        catch (OpenCLException e)
        {
            throw new DeviceUnavailableException($"opencl:{index} ({entry.Name}) could not be opened: {e.Message}", e);
        }
    }

    /// <summary>The devices, or none with the reason; loader and driver failures never escape as exceptions.</summary>
    internal static IReadOnlyList<OpenCLDeviceEntry> TryList(out string? unavailableReason)
    {
        unavailableReason = null;
        if (!OpenCLNative.TryLoad(out string loadFailure))
        {
            unavailableReason = loadFailure;
            return [];
        }
        try
        {
            var entries = OpenCLDevices.List();
            if (entries.Count == 0) unavailableReason = "the OpenCL loader found no platform or device (is a driver such as pocl-opencl-icd installed?)";
            return entries;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or OpenCLException)
        {
            unavailableReason = $"OpenCL device query failed: {e.Message}";
            return [];
        }
    }
}
