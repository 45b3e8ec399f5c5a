using ILGPU.Runtime.Cuda;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// Why ILGPU found no CUDA device. ILGPU hides the cause (it catches every driver error while listing
/// devices), and "no devices" alone does not tell a missing driver from a driver without a visible GPU,
/// so the driver is asked here through ILGPU's own driver API: is libcuda there, does it initialise, and
/// how many devices does it count.
/// </summary>
internal static class CudaDriverProbe
{
    public static string WhyNoDevices()
    {
        if (!IlgpuNativeLibraries.TryLoad("cuda", out _))
            return $"no CUDA driver ({string.Join(", ", IlgpuNativeLibraries.NamesTried("cuda"))} not found)";
        var driver = CudaAPI.CurrentAPI;
        if (!driver.Init()) return "the CUDA driver did not initialise (cuInit failed: no usable GPU, or a driver and kernel module of different versions)";
        var result = driver.GetDeviceCount(out int count);
        if (result != CudaError.CUDA_SUCCESS) return $"cuDeviceGetCount failed: {Describe((int)result)}";
        return count == 0
            ? "the CUDA driver reports no devices"
            : $"the CUDA driver reports {count} device(s), but ILGPU {IlgpuDevices.IlgpuVersion} could not read them";
    }

    /// <summary>A CUresult as its name and number, e.g. CUDA_ERROR_NO_DEVICE (100).</summary>
    public static string Describe(int result)
        => Enum.IsDefined((CudaError)result) ? $"{(CudaError)result} ({result})" : $"CUDA error {result}";
}
