using System.Text;
using static IlgpuVae.Kernels.OpenCL.OpenCLNative;

namespace IlgpuVae.Kernels.OpenCL;

/// <summary>One OpenCL device as this backend sees it; Index numbers all devices of all platforms in order.</summary>
internal sealed record OpenCLDeviceEntry(
    int Index, IntPtr Platform, IntPtr Device, string PlatformName, string Name, string Vendor, ulong Type,
    long GlobalMemoryBytes, long MaxAllocationBytes, long LocalMemoryBytes, int ComputeUnits, int MaxWorkGroupSize,
    int PreferredFloatVectorWidth, string DeviceVersion, string OpenCLCVersion, string DriverVersion)
{
    public bool IsGpu => (Type & DeviceTypeGpu) != 0;

    public string TypeName => IsGpu ? "GPU" : (Type & DeviceTypeCpu) != 0 ? "CPU" : (Type & DeviceTypeAccelerator) != 0 ? "accelerator" : "other";

    /// <summary>True when the device compiles OpenCL C 1.2, which every kernel source is written in.</summary>
    public bool SupportsOpenCLC12 => ParseVersion(OpenCLCVersion) >= new Version(1, 2);

    public KernelDeviceLimits Limits => new(MaxWorkGroupSize, LocalMemoryBytes, ComputeUnits, IsGpu,
        IsGpu ? 32 : Math.Max(1, PreferredFloatVectorWidth));

    public DeviceInfo ToDeviceInfo() => new(BackendKind.OpenCL, Index, $"opencl:{Index}", Name, PlatformName,
        GlobalMemoryBytes, ComputeUnits, IsGpu,
        $"{OpenCLCVersion}, driver {DriverVersion}, max work-group {MaxWorkGroupSize}, local memory {LocalMemoryBytes / 1024} KiB"
        + (SupportsOpenCLC12 ? "" : " (needs OpenCL C 1.2: unsupported)"));

    /// <summary>"OpenCL C 1.2 PoCL" or "OpenCL 3.0 CUDA" gives 1.2 or 3.0; anything unreadable gives 0.0.</summary>
    internal static Version ParseVersion(string text)
    {
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (char.IsDigit(word[0]) && Version.TryParse(word.Contains('.') ? word : word + ".0", out var version)) return version;
        return new Version(0, 0);
    }
}

/// <summary>Platform and device queries (clGetPlatformIDs, clGetDeviceIDs, clGet*Info).</summary>
internal static unsafe class OpenCLDevices
{
    private const int ClDeviceNotFound = -1, ClPlatformNotFoundKhr = -1001;

    /// <summary>Every device of every platform, in platform order then device order.</summary>
    public static IReadOnlyList<OpenCLDeviceEntry> List()
    {
        var result = new List<OpenCLDeviceEntry>();
        foreach (IntPtr platform in Platforms())
        {
            string platformName = PlatformString(platform, PlatformName);
            foreach (IntPtr device in DevicesOf(platform))
                result.Add(Describe(result.Count, platform, platformName, device));
        }
        return result;
    }

    private static IntPtr[] Platforms()
    {
        uint count = 0;
        int status = clGetPlatformIDs(0, null, &count);
        // The ICD loader answers "no platform" when no driver is registered under /etc/OpenCL/vendors.
        if (status == ClPlatformNotFoundKhr || (status == 0 && count == 0)) return [];
        OpenCLErrors.Check(status, nameof(clGetPlatformIDs));
        var platforms = new IntPtr[count];
        fixed (IntPtr* p = platforms) OpenCLErrors.Check(clGetPlatformIDs(count, p, null));
        return platforms;
    }

    private static IntPtr[] DevicesOf(IntPtr platform)
    {
        uint count = 0;
        int status = clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &count);
        if (status == ClDeviceNotFound || (status == 0 && count == 0)) return [];
        OpenCLErrors.Check(status, nameof(clGetDeviceIDs));
        var devices = new IntPtr[count];
        fixed (IntPtr* d = devices) OpenCLErrors.Check(clGetDeviceIDs(platform, DeviceTypeAll, count, d, null));
        return devices;
    }

    private static OpenCLDeviceEntry Describe(int index, IntPtr platform, string platformName, IntPtr device) => new(
        index, platform, device, platformName,
        DeviceString(device, DeviceName), DeviceString(device, DeviceVendor), DeviceScalar<ulong>(device, DeviceType),
        (long)DeviceScalar<ulong>(device, DeviceGlobalMemSize), (long)DeviceScalar<ulong>(device, DeviceMaxMemAllocSize),
        (long)DeviceScalar<ulong>(device, DeviceLocalMemSize), (int)DeviceScalar<uint>(device, DeviceMaxComputeUnits),
        (int)Math.Min(int.MaxValue, DeviceScalar<nuint>(device, DeviceMaxWorkGroupSize)),
        (int)DeviceScalar<uint>(device, DevicePreferredVectorWidthFloat),
        DeviceString(device, DeviceVersion), DeviceString(device, DeviceOpenCLCVersion), DeviceString(device, DriverVersion));

    private static string PlatformString(IntPtr platform, uint parameter)
    {
        nuint size = 0;
        OpenCLErrors.Check(clGetPlatformInfo(platform, parameter, 0, null, &size));
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) OpenCLErrors.Check(clGetPlatformInfo(platform, parameter, size, b, null));
        return Decode(bytes);
    }

    private static string DeviceString(IntPtr device, uint parameter)
    {
        nuint size = 0;
        OpenCLErrors.Check(clGetDeviceInfo(device, parameter, 0, null, &size));
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) OpenCLErrors.Check(clGetDeviceInfo(device, parameter, size, b, null));
        return Decode(bytes);
    }

    private static T DeviceScalar<T>(IntPtr device, uint parameter) where T : unmanaged
    {
        T value = default;
        OpenCLErrors.Check(clGetDeviceInfo(device, parameter, (nuint)sizeof(T), &value, null));
        return value;
    }

    /// <summary>OpenCL strings are NUL-terminated; some drivers pad them with trailing spaces.</summary>
    internal static string Decode(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? bytes[..end] : bytes).Trim();
    }
}
