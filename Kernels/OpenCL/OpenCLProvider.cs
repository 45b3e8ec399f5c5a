namespace IlgpuVae.Kernels.OpenCL;

/// <summary>OpenCL devices. (Scaffold: replaced by the OpenCL backend.)</summary>
internal sealed class OpenCLProvider : IBackendProvider
{
    public BackendKind Kind => BackendKind.OpenCL;

    public IReadOnlyList<DeviceInfo> Enumerate(out string? unavailableReason)
    {
        unavailableReason = "the OpenCL backend is not built yet";
        return [];
    }

    public Accelerator Open(int index) => throw new DeviceUnavailableException("the OpenCL backend is not built yet");
}
