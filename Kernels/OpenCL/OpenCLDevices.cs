using System.Text;
using static IlgpuVae.Kernels.OpenCL.OpenCLNative;

namespace IlgpuVae.Kernels.OpenCL;

/// <summary>
/// One OpenCL device as this backend sees it; Index numbers all devices of all platforms in order.
/// DedicatedLocalMemory: CL_DEVICE_LOCAL_MEM_TYPE is CL_LOCAL (on-chip memory), not emulated in global memory.
/// </summary>
internal sealed record OpenCLDeviceEntry(
    int Index, IntPtr Platform, IntPtr Device, string PlatformName, string Name, string Vendor, ulong Type,
    long GlobalMemoryBytes, long MaxAllocationBytes, long LocalMemoryBytes, bool DedicatedLocalMemory, int ComputeUnits,
    int MaxWorkGroupSize, int PreferredFloatVectorWidth, string DeviceVersion, string OpenCLCVersion, string DriverVersion)
{
    /// <summary>CL_DEVICE_TYPE has the GPU bit: what `--device auto` looks for and `devices` reports as a GPU.</summary>
    public bool IsGpu => (Type & DeviceTypeGpu) != 0;

    public string TypeName => DescribeType(Type);

    /// <summary>
    /// Whether the kernels are tuned as for a GPU (local-memory tiles, wide work-groups) rather than as for
    /// a CPU (one work-item a work-group, no local memory). GPUs are; so is an accelerator (a DSP, an
    /// FPGA, a many-core card) that has on-chip local memory and no CPU bit. A CPU device, or an
    /// accelerator whose local memory is emulated in global memory (an FPGA emulator, say), gets the
    /// CPU tuning: its local memory would only add copies and barriers.
    /// </summary>
    public bool TunesAsGpu => IsGpu || ((Type & DeviceTypeCpu) == 0 && DedicatedLocalMemory);

    /// <summary>CL_DEVICE_TYPE_CUSTOM alone: per the OpenCL specification such a device runs built-in kernels only, no OpenCL C.</summary>
    public bool IsCustomOnly => (Type & (DeviceTypeCpu | DeviceTypeGpu | DeviceTypeAccelerator)) == 0 && (Type & DeviceTypeCustom) != 0;

    /// <summary>True when the device compiles OpenCL C 1.2, which every kernel source is written in.</summary>
    public bool SupportsOpenCLC12 => !IsCustomOnly && ParseVersion(OpenCLCVersion) >= new Version(1, 2);

    public KernelDeviceLimits Limits => new(MaxWorkGroupSize, LocalMemoryBytes, ComputeUnits, TunesAsGpu,
        IsGpu ? 32 : Math.Max(1, PreferredFloatVectorWidth));

    public DeviceInfo ToDeviceInfo() => new(BackendKind.OpenCL, Index, $"opencl:{Index}", Name, PlatformName,
        GlobalMemoryBytes, ComputeUnits, IsGpu,
        $"{OpenCLCVersion}, driver {DriverVersion}, max work-group {MaxWorkGroupSize}, local memory {LocalMemoryBytes / 1024} KiB"
        + UnsupportedNote)
    {
        TypeName = TypeName,
    };

    private string UnsupportedNote => SupportsOpenCLC12 ? ""
        : IsCustomOnly ? " (custom device, no OpenCL C: unsupported)" : " (needs OpenCL C 1.2: unsupported)";

    /// <summary>
    /// CL_DEVICE_TYPE as words: every type bit set, in bit order, joined by '+' ("CPU", "GPU",
    /// "accelerator", "custom", "GPU+accelerator"). The CL_DEVICE_TYPE_DEFAULT bit, which some drivers
    /// also report, says nothing about the hardware and is left out.
    /// </summary>
    internal static string DescribeType(ulong type)
    {
        var names = new List<string>(4);
        if ((type & DeviceTypeCpu) != 0) names.Add("CPU");
        if ((type & DeviceTypeGpu) != 0) names.Add("GPU");
        if ((type & DeviceTypeAccelerator) != 0) names.Add("accelerator");
        if ((type & DeviceTypeCustom) != 0) names.Add("custom");
        return names.Count > 0 ? string.Join('+', names) : $"unknown type 0x{type:X}";
    }

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
        (long)DeviceScalar<ulong>(device, DeviceLocalMemSize), LocalMemoryType(device) == LocalMemTypeLocal,
        (int)DeviceScalar<uint>(device, DeviceMaxComputeUnits),
        (int)Math.Min(int.MaxValue, DeviceScalar<nuint>(device, DeviceMaxWorkGroupSize)),
        (int)DeviceScalar<uint>(device, DevicePreferredVectorWidthFloat),
        DeviceString(device, DeviceVersion), DeviceString(device, DeviceOpenCLCVersion), DeviceString(device, DriverVersion));

    /// <summary>CL_LOCAL or CL_GLOBAL; a driver that cannot answer counts as CL_GLOBAL (no dedicated local memory).</summary>
    private static uint LocalMemoryType(IntPtr device)
    {
        uint value = LocalMemTypeGlobal;
        return clGetDeviceInfo(device, DeviceLocalMemType, sizeof(uint), &value, null) == 0 ? value : LocalMemTypeGlobal;
    }

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
