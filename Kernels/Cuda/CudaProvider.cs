namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// CUDA devices. The backend needs both the driver (libcuda, to run) and NVRTC (to compile the kernel
/// sources at run time); without either it reports itself unavailable with the reason, and GPUs that
/// the driver sees but cannot be used are named in that reason.
/// </summary>
internal sealed class CudaProvider : IBackendProvider
{
    public BackendKind Kind => BackendKind.Cuda;

    public IReadOnlyList<DeviceInfo> Enumerate(out string? unavailableReason)
    {
        if (!TryGetApis(out var api, out var nvrtc, out unavailableReason)) return [];
        try
        {
            string driver = api!.DriverVersion();
            var devices = new List<DeviceInfo>();
            for (int ordinal = 0; ordinal < api.DeviceCount(); ordinal++)
            {
                int device = api.Device(ordinal);
                int cc = 10 * api.Attribute(device, CudaDriverApi.AttributeComputeCapabilityMajor)
                    + api.Attribute(device, CudaDriverApi.AttributeComputeCapabilityMinor);
                int sms = api.Attribute(device, CudaDriverApi.AttributeMultiprocessorCount);
                int shared = api.Attribute(device, CudaDriverApi.AttributeMaxSharedMemoryPerBlock);
                var target = CudaTarget.ForDevice(cc, nvrtc!.SupportedArchitectures, nvrtc.CanEmitCubin);
                devices.Add(new DeviceInfo(BackendKind.Cuda, ordinal, $"cuda:{ordinal}", api.DeviceName(device),
                    $"CUDA driver {driver}", api.TotalMemory(device), sms, true,
                    $"sm_{cc}, {sms} SMs, {shared / 1024} KiB shared memory a block; kernels by NVRTC {nvrtc.Version} for {target.Name}"));
            }
            unavailableReason = devices.Count == 0 ? "the CUDA driver reports no devices" : null;
            return devices;
        }
        catch (Exception e) when (e is CudaException or NotSupportedException)
        {
            unavailableReason = e.Message;
            return [];
        }
    }

    public Accelerator Open(int index)
    {
        if (!TryGetApis(out var api, out var nvrtc, out string? reason))
            throw new DeviceUnavailableException($"cuda:{index}: {reason}");
        try
        {
            return new CudaAccelerator(api!, nvrtc!, index, new CudaKernelCache(CudaKernelCache.DefaultDirectory()));
        }
        catch (Exception e) when (e is CudaException or NotSupportedException)
        {
            throw new DeviceUnavailableException($"cuda:{index} cannot be opened: {e.Message}", e);
        }
    }

    private static bool TryGetApis(out CudaDriverApi? api, out NvrtcApi? nvrtc, out string? reason)
    {
        nvrtc = null;
        api = CudaDriverApi.TryGet(out string driverReason);
        if (api is null)
        {
            reason = driverReason;
            return false;
        }
        nvrtc = NvrtcApi.TryGet(out string nvrtcReason);
        if (nvrtc is null)
        {
            reason = $"the CUDA driver is present but NVRTC, which compiles the kernels at run time, is not: {nvrtcReason}";
            return false;
        }
        reason = null;
        return true;
    }
}
