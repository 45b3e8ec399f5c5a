using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// Loads the first native library of a list of candidate names and resolves its exports. The CUDA
/// libraries are versioned by file name (libnvrtc.so.12, nvrtc64_120_0.dll, ...), and a missing
/// driver must become a sentence in `ilgpu-vae devices`, never a DllNotFoundException, so the
/// libraries are opened here by hand instead of through DllImport's fixed names.
/// </summary>
internal static class NativeLibraryProbe
{
    /// <summary>Tries each candidate in order; on failure, reason lists every name that was tried.</summary>
    public static bool TryLoad(IReadOnlyList<string> candidates, out IntPtr handle, out string loadedName, out string reason)
    {
        foreach (string name in candidates)
        {
            if (NativeLibrary.TryLoad(name, out handle))
            {
                loadedName = name;
                reason = "";
                return true;
            }
        }
        handle = IntPtr.Zero;
        loadedName = "";
        reason = $"{string.Join(", ", candidates)} not found";
        return false;
    }

    /// <summary>The address of a required export; a missing one means the library is too old for this program.</summary>
    public static IntPtr Export(IntPtr library, string libraryName, string symbol)
        => NativeLibrary.TryGetExport(library, symbol, out IntPtr address)
            ? address
            : throw new EntryPointNotFoundException($"{libraryName} has no export '{symbol}' (the library is older than this program needs)");

    /// <summary>The address of the first of several exports that exists (newer _v2 entry points before older ones).</summary>
    public static IntPtr Export(IntPtr library, string libraryName, params string[] symbols)
    {
        foreach (string symbol in symbols)
            if (NativeLibrary.TryGetExport(library, symbol, out IntPtr address)) return address;
        throw new EntryPointNotFoundException($"{libraryName} has none of the exports {string.Join(", ", symbols)}");
    }

    /// <summary>The address of an export that only newer library versions have, or zero.</summary>
    public static IntPtr OptionalExport(IntPtr library, string symbol)
        => NativeLibrary.TryGetExport(library, symbol, out IntPtr address) ? address : IntPtr.Zero;
}
