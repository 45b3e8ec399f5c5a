using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>A failed CUDA driver call: the call, the CUresult's name and the driver's text for it.</summary>
public sealed class CudaException(string message, int status, string errorName) : Exception(message)
{
    public int Status { get; } = status;
    public string ErrorName { get; } = errorName;
}

/// <summary>
/// The CUDA driver API entry points the backend uses, resolved from libcuda.so.1 (nvcuda.dll) as
/// function pointers. One library handle per process; cuInit runs once when it is first loaded. The
/// _v2 exports are the ones cuda.h maps the plain names to since CUDA 3.2 / 11.0.
/// </summary>
internal sealed unsafe class CudaDriverApi
{
    public const int Success = 0;
    public const int ErrorNotFound = 500;
    public const int ErrorNotReady = 600;

    public const int AttributeMaxThreadsPerBlock = 1;
    public const int AttributeMaxBlockDimX = 2;
    public const int AttributeMaxBlockDimY = 3;
    public const int AttributeMaxGridDimX = 5;
    public const int AttributeMaxGridDimY = 6;
    public const int AttributeMaxSharedMemoryPerBlock = 8;
    public const int AttributeWarpSize = 10;
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    /// <summary>CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: the block size limit of one compiled kernel.</summary>
    public const int FunctionAttributeMaxThreadsPerBlock = 0;

    /// <summary>cuStreamCreate flag: the stream does not synchronise with the legacy default stream.</summary>
    public const uint StreamNonBlocking = 1;
    /// <summary>cuEventCreate flag: no timestamps, the cheapest event for ordering copies.</summary>
    public const uint EventDisableTiming = 2;

    private static readonly Lazy<(CudaDriverApi? Api, string Reason)> s_loaded = new(Load);

    public static IReadOnlyList<string> LibraryCandidates { get; } =
        OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];

    /// <summary>The loaded and initialised driver, or null with the reason (missing library, cuInit failure).</summary>
    public static CudaDriverApi? TryGet(out string reason)
    {
        var (api, why) = s_loaded.Value;
        reason = why;
        return api;
    }

    public string LibraryName { get; }

    public readonly delegate* unmanaged<uint, int> cuInit;
    public readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<nuint*, int, int> cuDeviceTotalMem;
    public readonly delegate* unmanaged<IntPtr*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease;
    public readonly delegate* unmanaged<IntPtr, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
    public readonly delegate* unmanaged<ulong, int> cuMemFree;
    public readonly delegate* unmanaged<void**, nuint, int> cuMemAllocHost;
    public readonly delegate* unmanaged<void*, int> cuMemFreeHost;
    public readonly delegate* unmanaged<ulong, void*, nuint, IntPtr, int> cuMemcpyHtoDAsync;
    public readonly delegate* unmanaged<void*, ulong, nuint, IntPtr, int> cuMemcpyDtoHAsync;
    public readonly delegate* unmanaged<ulong, ulong, nuint, IntPtr, int> cuMemcpyDtoDAsync;
    public readonly delegate* unmanaged<IntPtr*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged<IntPtr, int> cuStreamSynchronize;
    public readonly delegate* unmanaged<IntPtr, int> cuStreamDestroy;
    public readonly delegate* unmanaged<IntPtr*, uint, int> cuEventCreate;
    public readonly delegate* unmanaged<IntPtr, IntPtr, int> cuEventRecord;
    public readonly delegate* unmanaged<IntPtr, int> cuEventSynchronize;
    public readonly delegate* unmanaged<float*, IntPtr, IntPtr, int> cuEventElapsedTime;
    public readonly delegate* unmanaged<IntPtr, int> cuEventDestroy;
    public readonly delegate* unmanaged<IntPtr*, void*, int> cuModuleLoadData;
    public readonly delegate* unmanaged<IntPtr, int> cuModuleUnload;
    public readonly delegate* unmanaged<IntPtr*, IntPtr, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> cuLaunchKernel;
    public readonly delegate* unmanaged<int*, int, IntPtr, int> cuFuncGetAttribute;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;

    private CudaDriverApi(IntPtr library, string name)
    {
        LibraryName = name;
        IntPtr F(params string[] symbols) => NativeLibraryProbe.Export(library, name, symbols);
        cuInit = (delegate* unmanaged<uint, int>)F("cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)F("cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)F("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)F("cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)F("cuDeviceGetName");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)F("cuDeviceGetAttribute");
        cuDeviceTotalMem = (delegate* unmanaged<nuint*, int, int>)F("cuDeviceTotalMem_v2");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<IntPtr*, int, int>)F("cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = (delegate* unmanaged<int, int>)F("cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
        cuCtxSetCurrent = (delegate* unmanaged<IntPtr, int>)F("cuCtxSetCurrent");
        cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)F("cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged<ulong, int>)F("cuMemFree_v2");
        cuMemAllocHost = (delegate* unmanaged<void**, nuint, int>)F("cuMemAllocHost_v2");
        cuMemFreeHost = (delegate* unmanaged<void*, int>)F("cuMemFreeHost");
        cuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, IntPtr, int>)F("cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, IntPtr, int>)F("cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, IntPtr, int>)F("cuMemcpyDtoDAsync_v2");
        cuStreamCreate = (delegate* unmanaged<IntPtr*, uint, int>)F("cuStreamCreate");
        cuStreamSynchronize = (delegate* unmanaged<IntPtr, int>)F("cuStreamSynchronize");
        cuStreamDestroy = (delegate* unmanaged<IntPtr, int>)F("cuStreamDestroy_v2", "cuStreamDestroy");
        cuEventCreate = (delegate* unmanaged<IntPtr*, uint, int>)F("cuEventCreate");
        cuEventRecord = (delegate* unmanaged<IntPtr, IntPtr, int>)F("cuEventRecord");
        cuEventSynchronize = (delegate* unmanaged<IntPtr, int>)F("cuEventSynchronize");
        cuEventElapsedTime = (delegate* unmanaged<float*, IntPtr, IntPtr, int>)F("cuEventElapsedTime");
        cuEventDestroy = (delegate* unmanaged<IntPtr, int>)F("cuEventDestroy_v2", "cuEventDestroy");
        cuModuleLoadData = (delegate* unmanaged<IntPtr*, void*, int>)F("cuModuleLoadData");
        cuModuleUnload = (delegate* unmanaged<IntPtr, int>)F("cuModuleUnload");
        cuModuleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)F("cuModuleGetFunction");
        cuLaunchKernel = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)F("cuLaunchKernel");
        cuFuncGetAttribute = (delegate* unmanaged<int*, int, IntPtr, int>)F("cuFuncGetAttribute");
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)F("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)F("cuGetErrorString");
    }

    private static (CudaDriverApi?, string) Load()
    {
        if (!NativeLibraryProbe.TryLoad(LibraryCandidates, out IntPtr library, out string name, out string missing))
            return (null, $"{missing} (the NVIDIA driver is not installed)");
        CudaDriverApi api;
        try
        {
            api = new CudaDriverApi(library, name);
        }
        catch (EntryPointNotFoundException e)
        {
            return (null, e.Message);
        }
        int status = api.cuInit(0);
        if (status != Success) return (null, $"cuInit failed: {api.Describe(status)}");
        return (api, "");
    }

    /// <summary>The driver's version as "major.minor" (cuDriverGetVersion gives 1000 * major + 10 * minor).</summary>
    public string DriverVersion()
    {
        int version;
        ThrowIfFailed(cuDriverGetVersion(&version));
        return $"{version / 1000}.{version % 1000 / 10}";
    }

    /// <summary>"NAME: text" of a CUresult, e.g. "CUDA_ERROR_OUT_OF_MEMORY: out of memory".</summary>
    public string Describe(int status)
    {
        var (name, text) = Explain(status);
        return $"{name}: {text}";
    }

    /// <summary>Throws a CudaException naming the call, the error name and the driver's text.</summary>
    public void ThrowIfFailed(int status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != Success) throw Failure(status, call);
    }

    public CudaException Failure(int status, string call)
    {
        var (name, text) = Explain(status);
        return new CudaException($"{call} failed: {name} ({status}): {text}", status, name);
    }

    private (string Name, string Text) Explain(int status)
    {
        byte* name = null, text = null;
        string errorName = cuGetErrorName(status, &name) == Success && name != null
            ? Marshal.PtrToStringUTF8((IntPtr)name) ?? $"CUresult {status}" : $"CUresult {status}";
        string description = cuGetErrorString(status, &text) == Success && text != null
            ? Marshal.PtrToStringUTF8((IntPtr)text) ?? "unknown error" : "unknown error";
        return (errorName, description);
    }

    public int Attribute(int device, int attribute)
    {
        int value;
        ThrowIfFailed(cuDeviceGetAttribute(&value, attribute, device));
        return value;
    }

    public string DeviceName(int device)
    {
        byte* buffer = stackalloc byte[256];
        ThrowIfFailed(cuDeviceGetName(buffer, 256, device));
        return Marshal.PtrToStringUTF8((IntPtr)buffer) ?? $"CUDA device {device}";
    }

    public long TotalMemory(int device)
    {
        nuint bytes;
        ThrowIfFailed(cuDeviceTotalMem(&bytes, device));
        return (long)bytes;
    }

    public int DeviceCount()
    {
        int count;
        ThrowIfFailed(cuDeviceGetCount(&count));
        return count;
    }

    public int Device(int ordinal)
    {
        int device;
        ThrowIfFailed(cuDeviceGet(&device, ordinal));
        return device;
    }
}
