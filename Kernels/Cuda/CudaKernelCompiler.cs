using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// What NVRTC compiles for: a real architecture (sm_XY: a CUBIN the driver loads as it is) or a
/// virtual one (compute_XY: PTX the driver JIT-compiles, which also runs on GPUs newer than the NVRTC).
/// </summary>
public readonly record struct CudaTarget(int Architecture, bool Real)
{
    public string Name => Real ? $"sm_{Architecture}" : $"compute_{Architecture}";

    /// <summary>
    /// The target for a device of compute capability cc (e.g. 86): its own sm_XY when this NVRTC knows
    /// it, else PTX for the newest architecture NVRTC knows that the device can run (forward compatible).
    /// </summary>
    public static CudaTarget ForDevice(int cc, IReadOnlyList<int> supported, bool canEmitCubin)
    {
        if (supported.Count == 0) return new CudaTarget(cc, canEmitCubin);
        if (canEmitCubin && supported.Contains(cc)) return new CudaTarget(cc, true);
        int best = supported.Where(a => a <= cc).DefaultIfEmpty(0).Max();
        if (best == 0)
            throw new NotSupportedException($"this NVRTC targets sm_{supported.Min()} to sm_{supported.Max()}; the device is sm_{cc}, too old for it");
        return new CudaTarget(best, false);
    }

    public override string ToString() => Name;
}

/// <summary>One NVRTC compilation: the image to load (CUBIN or PTX), the PTX text when NVRTC keeps it, the log.</summary>
internal sealed record NvrtcCompilation(byte[] Image, string Ptx, string Log);

/// <summary>A built kernel family: the image to load and whether it came from the disk cache.</summary>
internal sealed record CudaKernelImage(string Family, byte[] Image, CudaTarget Target, bool FromCache, string CacheKey);

/// <summary>
/// Turns a kernel family of the shared dialect into a CUDA image: prelude_cuda.h and the defines put in
/// front of the family source, compiled by NVRTC, looked up in and stored to the disk cache.
/// </summary>
internal sealed partial class CudaKernelCompiler(NvrtcApi nvrtc, CudaKernelCache? cache)
{
    private int _compilations;

    public NvrtcApi Nvrtc { get; } = nvrtc;
    public CudaKernelCache? Cache { get; } = cache;

    /// <summary>How many times NVRTC actually ran (cache hits do not count).</summary>
    public int Compilations => Volatile.Read(ref _compilations);

    /// <summary>The NVRTC options for a target. C++17 is NVRTC's default since 11.0; naming it keeps the dialect fixed.</summary>
    public static IReadOnlyList<string> Options(CudaTarget target) =>
        [$"--gpu-architecture={target.Name}", "--device-as-default-execution-space", "--std=c++17"];

    /// <summary>
    /// The program NVRTC sees: the prelude, one #define per entry (sorted, so the cache key does not
    /// depend on dictionary order), then the family, renumbered by #line so the log names its lines.
    /// </summary>
    public static string Compose(string family, string source, IReadOnlyDictionary<string, string> defines)
    {
        var text = new StringBuilder();
        text.Append("#line 1 \"prelude_cuda.h\"\n").Append(KernelSources.Load("prelude_cuda.h")).Append('\n');
        foreach (var (name, value) in defines.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            if (!IdentifierPattern().IsMatch(name))
                throw new ArgumentException($"define '{name}' of {family} is not a C identifier", nameof(defines));
            if (value.Contains('\n') || value.Contains('\r'))
                throw new ArgumentException($"define {name} of {family} spans lines", nameof(defines));
            text.Append("#define ").Append(name).Append(' ').Append(value).Append('\n');
        }
        text.Append("#line 1 \"").Append(family).Append("\"\n").Append(source).Append('\n');
        return text.ToString();
    }

    /// <summary>The names of the kernels a source declares with KERNEL (comments ignored).</summary>
    public static IReadOnlyList<string> KernelNames(string source) => KernelSources.KernelNames(source);

    /// <summary>Builds a family for a target, from the cache when the same program was compiled before.</summary>
    public CudaKernelImage Build(string family, string source, IReadOnlyDictionary<string, string> defines, CudaTarget target, bool useCache = true)
    {
        string program = Compose(family, source, defines);
        var options = Options(target);
        string key = CudaKernelCache.Key(program, target, Nvrtc.Version, options);
        if (useCache && Cache is not null && Cache.TryRead(family, key, target, out byte[] cached))
            return new CudaKernelImage(family, cached, target, true, key);
        var compiled = Compile(program, family, target);
        Cache?.Write(family, key, target, compiled.Image);
        return new CudaKernelImage(family, compiled.Image, target, false, key);
    }

    /// <summary>Compiles a complete program; a failure throws an NvrtcException carrying the compiler's log.</summary>
    public unsafe NvrtcCompilation Compile(string program, string programName, CudaTarget target)
    {
        var options = Options(target);
        using var handle = NvrtcProgramHandle.Create(Nvrtc, program, programName);
        IntPtr raw = handle.DangerousGetHandle();
        var optionPointers = new IntPtr[options.Count];
        int status;
        try
        {
            for (int i = 0; i < options.Count; i++) optionPointers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            fixed (IntPtr* p = optionPointers) status = Nvrtc.nvrtcCompileProgram(raw, options.Count, (byte**)p);
        }
        finally
        {
            foreach (IntPtr p in optionPointers) Marshal.FreeCoTaskMem(p);
        }
        Interlocked.Increment(ref _compilations);
        string log = ReadLog(raw);
        if (status != NvrtcApi.Success)
        {
            throw new NvrtcException(
                $"nvrtcCompileProgram({programName}, {string.Join(' ', options)}) failed: {Nvrtc.ErrorName(status)} ({status})\n{log}",
                status, log);
        }
        string ptx = TryReadPtx(raw);
        byte[] image = target.Real && Nvrtc.CanEmitCubin ? ReadCubin(raw) : Encoding.UTF8.GetBytes(ptx + "\0");
        return new NvrtcCompilation(image, ptx, log);
    }

    private unsafe string ReadLog(IntPtr program)
    {
        nuint size;
        if (Nvrtc.nvrtcGetProgramLogSize(program, &size) != NvrtcApi.Success || size <= 1) return "";
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer) Nvrtc.ThrowIfFailed(Nvrtc.nvrtcGetProgramLog(program, p));
        return Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1).TrimEnd();
    }

    /// <summary>The PTX text; NVRTC may keep none when it compiled straight to a CUBIN.</summary>
    private unsafe string TryReadPtx(IntPtr program)
    {
        nuint size;
        if (Nvrtc.nvrtcGetPTXSize(program, &size) != NvrtcApi.Success || size <= 1) return "";
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer) Nvrtc.ThrowIfFailed(Nvrtc.nvrtcGetPTX(program, p));
        return Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1);
    }

    private unsafe byte[] ReadCubin(IntPtr program)
    {
        nuint size;
        Nvrtc.ThrowIfFailed(Nvrtc.nvrtcGetCUBINSize(program, &size));
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer) Nvrtc.ThrowIfFailed(Nvrtc.nvrtcGetCUBIN(program, p));
        return buffer;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();


}
