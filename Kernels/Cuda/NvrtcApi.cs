using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>A failed NVRTC call; for a failed compile the message and <see cref="Log"/> hold the compiler's log.</summary>
public sealed class NvrtcException(string message, int status, string log) : Exception(message)
{
    public int Status { get; } = status;
    public string Log { get; } = log;
}

/// <summary>
/// NVRTC, the CUDA run-time compiler, resolved as function pointers from the newest libnvrtc found
/// (13, 12, then 11.2, whose soname every 11.x release kept). Independent of the driver: kernels can
/// be compiled, and their compilation tested, on a machine without a GPU.
/// </summary>
internal sealed unsafe class NvrtcApi
{
    public const int Success = 0;
    public const int ErrorCompilation = 6;

    private static readonly Lazy<(NvrtcApi? Api, string Reason)> s_loaded = new(Load);

    public static IReadOnlyList<string> LibraryCandidates { get; } = BuildCandidates();

    public static NvrtcApi? TryGet(out string reason)
    {
        var (api, why) = s_loaded.Value;
        reason = why;
        return api;
    }

    public string LibraryName { get; }
    public int Major { get; }
    public int Minor { get; }
    public string Version => $"{Major}.{Minor}";

    /// <summary>The SM architectures this NVRTC can target (e.g. 70, 75, 80, 86, 89, 90); empty before 11.2.</summary>
    public IReadOnlyList<int> SupportedArchitectures { get; }

    /// <summary>Whether this NVRTC emits CUBIN for real architectures (11.1 and later); otherwise only PTX.</summary>
    public bool CanEmitCubin => nvrtcGetCUBIN != null;

    public readonly delegate* unmanaged<int*, int*, int> nvrtcVersion;
    public readonly delegate* unmanaged<int, byte*> nvrtcGetErrorString;
    public readonly delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
    public readonly delegate* unmanaged<IntPtr*, int> nvrtcDestroyProgram;
    public readonly delegate* unmanaged<IntPtr, int, byte**, int> nvrtcCompileProgram;
    public readonly delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetProgramLogSize;
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcGetProgramLog;
    public readonly delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetPTXSize;
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcGetPTX;
    public readonly delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetCUBINSize;
    public readonly delegate* unmanaged<IntPtr, byte*, int> nvrtcGetCUBIN;

    private NvrtcApi(IntPtr library, string name)
    {
        LibraryName = name;
        IntPtr F(string symbol) => NativeLibraryProbe.Export(library, name, symbol);
        nvrtcVersion = (delegate* unmanaged<int*, int*, int>)F("nvrtcVersion");
        nvrtcGetErrorString = (delegate* unmanaged<int, byte*>)F("nvrtcGetErrorString");
        nvrtcCreateProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)F("nvrtcCreateProgram");
        nvrtcDestroyProgram = (delegate* unmanaged<IntPtr*, int>)F("nvrtcDestroyProgram");
        nvrtcCompileProgram = (delegate* unmanaged<IntPtr, int, byte**, int>)F("nvrtcCompileProgram");
        nvrtcGetProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, int>)F("nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = (delegate* unmanaged<IntPtr, byte*, int>)F("nvrtcGetProgramLog");
        nvrtcGetPTXSize = (delegate* unmanaged<IntPtr, nuint*, int>)F("nvrtcGetPTXSize");
        nvrtcGetPTX = (delegate* unmanaged<IntPtr, byte*, int>)F("nvrtcGetPTX");
        nvrtcGetCUBINSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibraryProbe.OptionalExport(library, "nvrtcGetCUBINSize");
        nvrtcGetCUBIN = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibraryProbe.OptionalExport(library, "nvrtcGetCUBIN");
        if (nvrtcGetCUBINSize == null) nvrtcGetCUBIN = null;

        int major, minor;
        ThrowIfFailed(nvrtcVersion(&major, &minor));
        Major = major;
        Minor = minor;
        SupportedArchitectures = QueryArchitectures(library);
    }

    private IReadOnlyList<int> QueryArchitectures(IntPtr library)
    {
        var count = (delegate* unmanaged<int*, int>)NativeLibraryProbe.OptionalExport(library, "nvrtcGetNumSupportedArchs");
        var list = (delegate* unmanaged<int*, int>)NativeLibraryProbe.OptionalExport(library, "nvrtcGetSupportedArchs");
        if (count == null || list == null) return [];
        int n;
        ThrowIfFailed(count(&n));
        var archs = new int[n];
        fixed (int* p = archs) ThrowIfFailed(list(p));
        Array.Sort(archs);
        return archs;
    }

    private static (NvrtcApi?, string) Load()
    {
        if (!NativeLibraryProbe.TryLoad(LibraryCandidates, out IntPtr library, out string name, out string missing))
            return (null, $"{missing} (install the CUDA run-time compiler, e.g. Debian's libnvrtc11.2 or the CUDA toolkit)");
        try
        {
            return (new NvrtcApi(library, name), "");
        }
        catch (Exception e) when (e is EntryPointNotFoundException or NvrtcException)
        {
            return (null, $"{name}: {e.Message}");
        }
    }

    private static IReadOnlyList<string> BuildCandidates()
    {
        string[] names = OperatingSystem.IsWindows()
            ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll", "nvrtc64_111_0.dll", "nvrtc64_110_0.dll"]
            : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];
        // A CUDA toolkit loaded by an HPC module or installed under /usr/local/cuda is often not on the
        // loader's path; CUDA_HOME / CUDA_PATH name it.
        var candidates = new List<string>(names);
        foreach (string variable in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            string? root = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrWhiteSpace(root)) continue;
            string folder = Path.Combine(root, OperatingSystem.IsWindows() ? "bin" : "lib64");
            candidates.AddRange(names.Select(n => Path.Combine(folder, n)));
        }
        return candidates;
    }

    /// <summary>NVRTC's name for a status, e.g. "NVRTC_ERROR_COMPILATION".</summary>
    public string ErrorName(int status)
    {
        byte* text = nvrtcGetErrorString(status);
        return text == null ? $"nvrtcResult {status}" : Marshal.PtrToStringUTF8((IntPtr)text) ?? $"nvrtcResult {status}";
    }

    public void ThrowIfFailed(int status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != Success) throw new NvrtcException($"{call} failed: {ErrorName(status)} ({status})", status, "");
    }
}
