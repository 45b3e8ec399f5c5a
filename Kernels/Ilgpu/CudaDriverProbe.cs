using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// Why ILGPU found no CUDA device. ILGPU hides the cause (it catches every driver error while listing
/// devices), and "no devices" alone does not tell a missing driver from a driver without a visible GPU,
/// so the driver is asked here directly: is libcuda there, and what do cuInit and cuDeviceGetCount say.
/// </summary>
internal static unsafe class CudaDriverProbe
{
    public static string WhyNoDevices()
    {
        if (!IlgpuNativeLibraries.TryLoad("cuda", out IntPtr library))
            return $"no CUDA driver ({string.Join(", ", IlgpuNativeLibraries.NamesTried("cuda"))} not found)";
        if (!NativeLibrary.TryGetExport(library, "cuInit", out IntPtr init)
            || !NativeLibrary.TryGetExport(library, "cuDeviceGetCount", out IntPtr getCount))
            return "the CUDA driver library has no cuInit or cuDeviceGetCount";
        int result = ((delegate* unmanaged<uint, int>)init)(0);
        if (result != 0) return $"cuInit failed: {Describe(result)}";
        int count = 0;
        result = ((delegate* unmanaged<int*, int>)getCount)(&count);
        if (result != 0) return $"cuDeviceGetCount failed: {Describe(result)}";
        return count == 0
            ? "the CUDA driver reports no devices"
            : $"the CUDA driver reports {count} device(s), but ILGPU {IlgpuDevices.IlgpuVersion} could not read them";
    }

    /// <summary>A CUresult as its name and number, e.g. CUDA_ERROR_NO_DEVICE (100).</summary>
    public static string Describe(int result)
        => Enum.IsDefined((CudaError)result) ? $"{(CudaError)result} ({result})" : $"CUDA error {result}";
}
