using System.Reflection;
using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.OpenCL;

/// <summary>
/// The OpenCL 1.2 entry points this backend uses, bound to the ICD loader. The import name "OpenCL" is
/// resolved here: Linux distributions ship only libOpenCL.so.1 unless a -dev package is installed,
/// Windows has OpenCL.dll, macOS a framework. <see cref="TryLoad"/> tells whether a loader is present
/// before any call is made, so a machine without OpenCL gets a reason instead of a DllNotFoundException.
/// </summary>
internal static unsafe partial class OpenCLNative
{
    private const string Library = "OpenCL";

    private static readonly string[] Candidates = OperatingSystem.IsWindows() ? ["OpenCL.dll"]
        : OperatingSystem.IsMacOS() ? ["/System/Library/Frameworks/OpenCL.framework/OpenCL"]
        : ["libOpenCL.so.1", "libOpenCL.so"];

    private static readonly Lock LoadLock = new();
    private static IntPtr _handle;
    private static string? _loadFailure;

    static OpenCLNative()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(OpenCLNative).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Another part of this assembly set its resolver first; the load-context event still reaches us.
            System.Runtime.Loader.AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
                assembly == typeof(OpenCLNative).Assembly ? Resolve(name, assembly, null) : IntPtr.Zero;
        }
    }

    /// <summary>Loads the ICD loader once; false with the names tried when there is none.</summary>
    public static bool TryLoad(out string reason)
    {
        lock (LoadLock)
        {
            if (_handle == IntPtr.Zero && _loadFailure is null && !TryLoadFrom(Candidates, out _handle, out string failure))
                _loadFailure = failure;
            reason = _loadFailure ?? "";
            return _handle != IntPtr.Zero;
        }
    }

    /// <summary>Loads the first library of candidates that exists; otherwise a reason naming them and the fix.</summary>
    internal static bool TryLoadFrom(IReadOnlyList<string> candidates, out IntPtr handle, out string reason)
    {
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out handle))
            {
                reason = "";
                return true;
            }
        }
        handle = IntPtr.Zero;
        reason = $"no OpenCL ICD loader ({string.Join(", ", candidates)} not found; on Debian: apt install ocl-icd-libopencl1 and a driver such as pocl-opencl-icd)";
        return false;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName == Library && TryLoad(out _) ? _handle : IntPtr.Zero;

    // ---------------------------------------------------------------- constants (cl.h)

    public const ulong DeviceTypeDefault = 1 << 0, DeviceTypeCpu = 1 << 1, DeviceTypeGpu = 1 << 2, DeviceTypeAccelerator = 1 << 3,
        DeviceTypeCustom = 1 << 4, DeviceTypeAll = 0xFFFFFFFF;
    public const uint PlatformVersion = 0x0901, PlatformName = 0x0902, PlatformVendor = 0x0903;
    public const uint DeviceType = 0x1000, DeviceMaxComputeUnits = 0x1002, DeviceMaxWorkGroupSize = 0x1004,
        DevicePreferredVectorWidthFloat = 0x100A, DeviceMaxMemAllocSize = 0x1010, DeviceGlobalMemSize = 0x101F,
        DeviceLocalMemType = 0x1022, DeviceLocalMemSize = 0x1023, DeviceName = 0x102B, DeviceVendor = 0x102C, DriverVersion = 0x102D,
        DeviceVersion = 0x102F, DeviceOpenCLCVersion = 0x103D;
    public const uint LocalMemTypeLocal = 1, LocalMemTypeGlobal = 2;
    public const ulong MemReadWrite = 1;
    public const uint ProgramBuildLog = 0x1183;
    public const uint KernelFunctionName = 0x1190;
    public const uint True = 1, False = 0;

    // ---------------------------------------------------------------- platforms and devices

    [LibraryImport(Library)]
    public static partial int clGetPlatformIDs(uint numEntries, IntPtr* platforms, uint* numPlatforms);

    [LibraryImport(Library)]
    public static partial int clGetPlatformInfo(IntPtr platform, uint paramName, nuint valueSize, void* value, nuint* valueSizeReturned);

    [LibraryImport(Library)]
    public static partial int clGetDeviceIDs(IntPtr platform, ulong deviceType, uint numEntries, IntPtr* devices, uint* numDevices);

    [LibraryImport(Library)]
    public static partial int clGetDeviceInfo(IntPtr device, uint paramName, nuint valueSize, void* value, nuint* valueSizeReturned);

    // ---------------------------------------------------------------- context and queue

    [LibraryImport(Library)]
    public static partial ClContextHandle clCreateContext(IntPtr* properties, uint numDevices, IntPtr* devices,
        IntPtr notify, IntPtr userData, out int status);

    [LibraryImport(Library)]
    public static partial int clReleaseContext(IntPtr context);

    [LibraryImport(Library)]
    public static partial ClQueueHandle clCreateCommandQueue(ClContextHandle context, IntPtr device, ulong properties, out int status);

    [LibraryImport(Library)]
    public static partial int clReleaseCommandQueue(IntPtr queue);

    [LibraryImport(Library)]
    public static partial int clFinish(ClQueueHandle queue);

    [LibraryImport(Library)]
    public static partial int clFlush(ClQueueHandle queue);

    // ---------------------------------------------------------------- memory

    [LibraryImport(Library)]
    public static partial ClMemHandle clCreateBuffer(ClContextHandle context, ulong flags, nuint size, IntPtr hostPointer, out int status);

    [LibraryImport(Library)]
    public static partial int clReleaseMemObject(IntPtr memory);

    [LibraryImport(Library)]
    public static partial int clEnqueueWriteBuffer(ClQueueHandle queue, ClMemHandle buffer, uint blocking, nuint offset, nuint size,
        void* source, uint numEvents, IntPtr* waitList, IntPtr* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueReadBuffer(ClQueueHandle queue, ClMemHandle buffer, uint blocking, nuint offset, nuint size,
        void* destination, uint numEvents, IntPtr* waitList, IntPtr* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueCopyBuffer(ClQueueHandle queue, ClMemHandle source, ClMemHandle destination,
        nuint sourceOffset, nuint destinationOffset, nuint size, uint numEvents, IntPtr* waitList, IntPtr* evt);

    // ---------------------------------------------------------------- programs and kernels

    [LibraryImport(Library)]
    public static partial ClProgramHandle clCreateProgramWithSource(ClContextHandle context, uint count, byte** strings,
        nuint* lengths, out int status);

    [LibraryImport(Library)]
    public static partial int clBuildProgram(ClProgramHandle program, uint numDevices, IntPtr* devices, byte* options,
        IntPtr notify, IntPtr userData);

    [LibraryImport(Library)]
    public static partial int clGetProgramBuildInfo(ClProgramHandle program, IntPtr device, uint paramName, nuint valueSize,
        void* value, nuint* valueSizeReturned);

    [LibraryImport(Library)]
    public static partial int clReleaseProgram(IntPtr program);

    [LibraryImport(Library)]
    public static partial int clCreateKernelsInProgram(ClProgramHandle program, uint numKernels, IntPtr* kernels, uint* numKernelsReturned);

    [LibraryImport(Library)]
    public static partial int clGetKernelInfo(ClKernelHandle kernel, uint paramName, nuint valueSize, void* value, nuint* valueSizeReturned);

    [LibraryImport(Library)]
    public static partial int clReleaseKernel(IntPtr kernel);

    [LibraryImport(Library)]
    public static partial int clGetKernelWorkGroupInfo(ClKernelHandle kernel, IntPtr device, uint paramName, nuint valueSize, void* value, nuint* valueSizeReturned);

    public const uint CL_KERNEL_WORK_GROUP_SIZE = 0x11B0;

    [LibraryImport(Library)]
    public static partial int clSetKernelArg(ClKernelHandle kernel, uint index, nuint size, void* value);

    [LibraryImport(Library)]
    public static partial int clEnqueueNDRangeKernel(ClQueueHandle queue, ClKernelHandle kernel, uint workDimensions,
        nuint* globalOffset, nuint* globalSize, nuint* localSize, uint numEvents, IntPtr* waitList, IntPtr* evt);
}
