namespace IlgpuVae.Kernels.Cuda;

/// <summary>CUDA devices. (Scaffold: replaced by the CUDA backend.)</summary>
internal sealed class CudaProvider : IBackendProvider
{
    public BackendKind Kind => BackendKind.Cuda;

    public IReadOnlyList<DeviceInfo> Enumerate(out string? unavailableReason)
    {
        unavailableReason = "the CUDA backend is not built yet";
        return [];
    }

    public Accelerator Open(int index) => throw new DeviceUnavailableException("the CUDA backend is not built yet");
}
