using IlgpuVae.Training.IO;
using ScottPlot;

namespace IlgpuVae.Training.Outputs;

/// <summary>
/// What the line charts (loss.png, the decoder's singular value spectra) share: the font, the size and
/// the PNG. ScottPlot draws through SkiaSharp; the native Skia library is the NoDependencies build (no
/// fontconfig, no system freetype), so a machine without a desktop draws too. The image holds nothing but
/// the data: no time, no random seed, so the same numbers give the same bytes.
/// </summary>
public static class LineCharts
{
    public const int Width = 800, Height = 500;

    /// <summary>The sans-serif face of Debian's fonts-dejavu-core, used when the machine has it; else ScottPlot's choice.</summary>
    public const string PreferredFont = "DejaVu Sans";

    /// <summary>An empty chart with the title and the axis labels.</summary>
    public static Plot Create(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        if (string.Equals(Fonts.GetTypeface(PreferredFont, bold: false, italic: false)?.FamilyName, PreferredFont, StringComparison.Ordinal))
            plot.Font.Set(PreferredFont);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    /// <summary>The chart as PNG bytes.</summary>
    public static byte[] Png(Plot plot, int width = Width, int height = Height) => plot.GetImageBytes(width, height, ImageFormat.Png);

    /// <summary>The chart as a PNG file, replaced atomically (a temporary file, then a rename).</summary>
    public static void WritePng(string path, Plot plot, int width = Width, int height = Height) =>
        AtomicFile.WriteAllBytes(path, Png(plot, width, height));

    /// <summary>What a drawing failure says at its root (a type initialiser's wrapper says nothing of the missing library).</summary>
    public static string Reason(Exception e)
    {
        while (e is TypeInitializationException { InnerException: { } inner }) e = inner;
        // The loader's message goes on with every path it tried: its first sentence is the reason.
        string first = e.Message.Split('\n')[0].Trim();
        int end = first.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? first[..(end + 1)] : first;
    }

    /// <summary>Whether a failure is the chart library's own (its native library missing or unloadable), not the file system's.</summary>
    public static bool IsDrawingFailure(Exception e) => e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException
        || e is TypeInitializationException { InnerException: { } inner } && IsDrawingFailure(inner);
}
