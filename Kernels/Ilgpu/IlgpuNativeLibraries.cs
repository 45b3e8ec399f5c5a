using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// Maps the native library names that ILGPU imports to the files that drivers install. ILGPU imports
/// the CUDA driver as "cuda" and OpenCL as "OpenCL", which .NET looks up as libcuda.so and
/// libOpenCL.so; Debian, most distributions and the GPU containers ship only the versioned sonames
/// (libcuda.so.1, libOpenCL.so.1: the unversioned link comes with the -dev packages). ILGPU swallows
/// the load failure, so without this mapping a machine with a working driver looks like one with no
/// devices. ILGPU.Algorithms' cuBLAS binding asks for libcublas.so.12 at newest; cuBLAS 13 (CUDA 13)
/// keeps the same v2 entry points, so it is tried after it.
/// </summary>
public static class IlgpuNativeLibraries
{
    private static readonly Lock Gate = new();
    private static bool _installed;
    private static readonly ConcurrentDictionary<string, IntPtr> Loaded = new(StringComparer.Ordinal);

    /// <summary>Where WSL 2 puts the Windows driver's libcuda; ILGPU only looks there through a resolver of its own.</summary>
    private const string WslLibraryDirectory = "/usr/lib/wsl/lib";

    /// <summary>
    /// Installs the resolver on ILGPU and ILGPU.Algorithms, once per process; later calls return at
    /// once. Must run before ILGPU first touches a driver: every ILGPU context the program makes comes
    /// through <see cref="IlgpuDevices"/>, which calls this first.
    /// </summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (_installed) return;
            _installed = true;
            TryInstall(typeof(ILGPU.Context).Assembly);
            TryInstall(typeof(ILGPU.Runtime.Cuda.CuBlas).Assembly);
        }
    }

    /// <summary>
    /// Installs the resolver on one assembly (tests use it on a private copy of ILGPU). An assembly has at
    /// most one resolver: false when another one is already there, which then stays in charge.
    /// </summary>
    public static bool TryInstall(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>True on WSL 2, where ILGPU's own Cuda() builder installs a resolver (and throws if one is there).</summary>
    public static bool IsWsl { get; } = OperatingSystem.IsLinux() && Directory.Exists(WslLibraryDirectory)
        && File.Exists("/proc/version") && File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The file names tried for an imported name after .NET's own lookup of it has failed, in order; empty
    /// for names that need no mapping (and on Windows and macOS, where ILGPU's names are the installed ones).
    /// </summary>
    public static IReadOnlyList<string> FallbackNames(string importName)
    {
        ArgumentNullException.ThrowIfNull(importName);
        if (!OperatingSystem.IsLinux()) return [];
        if (importName.Equals("cuda", StringComparison.OrdinalIgnoreCase))
            return IsWsl ? ["libcuda.so.1", Path.Combine(WslLibraryDirectory, "libcuda.so.1"), Path.Combine(WslLibraryDirectory, "libcuda.so")] : ["libcuda.so.1"];
        if (importName.Equals("OpenCL", StringComparison.OrdinalIgnoreCase)) return ["libOpenCL.so.1"];
        if (importName == "libcublas.so.12") return ["libcublas.so.13"];
        return [];
    }

    /// <summary>
    /// Every name under which the library of an imported name is looked for, as a message lists them:
    /// what .NET's lookup tries first (libNAME.so on Linux), then the fallbacks.
    /// </summary>
    public static IReadOnlyList<string> NamesTried(string importName)
    {
        string first = OperatingSystem.IsLinux() && !importName.Contains(".so", StringComparison.Ordinal) ? $"lib{importName}.so" : importName;
        return [first, .. FallbackNames(importName)];
    }

    /// <summary>Loads the library of an imported name as ILGPU would with the resolver; false when no name loads.</summary>
    public static bool TryLoad(string importName, out IntPtr handle)
    {
        foreach (string name in NamesTried(importName))
            if (NativeLibrary.TryLoad(name, out handle)) return true;
        handle = IntPtr.Zero;
        return false;
    }

    private static IntPtr Resolve(string importName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var fallbacks = FallbackNames(importName);
        if (fallbacks.Count == 0) return IntPtr.Zero; // the runtime's own lookup, unchanged
        // Each DllImport method resolves on its first call; the handle is found once and then reused.
        if (Loaded.TryGetValue(importName, out IntPtr cached)) return cached;
        if (!NativeLibrary.TryLoad(importName, assembly, searchPath, out IntPtr handle))
        {
            foreach (string name in fallbacks)
                if (NativeLibrary.TryLoad(name, out handle)) break;
        }
        // Zero lets the runtime report DllNotFoundException, which ILGPU turns into "no devices".
        if (handle != IntPtr.Zero) Loaded.TryAdd(importName, handle);
        return handle;
    }
}
