using System.Reflection;

namespace IlgpuVae.Kernels;

/// <summary>
/// The kernel sources embedded in this assembly (Sources/*.cl, Sources/*.h): one file a kernel family
/// in the shared C dialect, plus one prelude a compiler (prelude_opencl.h, prelude_cuda.h).
/// </summary>
public static partial class KernelSources
{
    private const string Prefix = "IlgpuVae.Kernels.Sources.";

    /// <summary>File names of every embedded source, e.g. "gemm.cl".</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(KernelSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..]).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The kernel family files (*.cl), without the preludes and headers.</summary>
    public static IReadOnlyList<string> Families => Names.Where(n => n.EndsWith(".cl", StringComparison.Ordinal)).ToArray();

    /// <summary>The names of the KERNEL functions of a source (comments ignored), in order of appearance.</summary>
    public static IReadOnlyList<string> KernelNames(string source)
    {
        string code = CommentPattern().Replace(source, " ");
        return KernelPattern().Matches(code).Select(m => m.Groups[1].Value).Distinct().ToArray();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/\*.*?\*/|//[^\n]*", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex CommentPattern();

    [System.Text.RegularExpressions.GeneratedRegex(@"\bKERNEL\s+void\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")]
    private static partial System.Text.RegularExpressions.Regex KernelPattern();

    public static string Load(string name)
    {
        using Stream? stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new FileNotFoundException($"kernel source '{name}' is not embedded (have: {string.Join(", ", Names)})");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
