using System.Reflection;

namespace IlgpuVae.Kernels;

/// <summary>
/// The kernel sources embedded in this assembly (Sources/*.cl, Sources/*.h): one file a kernel family
/// in the shared C dialect, plus one prelude a compiler (prelude_opencl.h, prelude_cuda.h).
/// </summary>
public static class KernelSources
{
    private const string Prefix = "IlgpuVae.Kernels.Sources.";

    /// <summary>File names of every embedded source, e.g. "gemm.cl".</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(KernelSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..]).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The kernel family files (*.cl), without the preludes and headers.</summary>
    public static IReadOnlyList<string> Families => Names.Where(n => n.EndsWith(".cl", StringComparison.Ordinal)).ToArray();

    public static string Load(string name)
    {
        using Stream? stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new FileNotFoundException($"kernel source '{name}' is not embedded (have: {string.Join(", ", Names)})");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
