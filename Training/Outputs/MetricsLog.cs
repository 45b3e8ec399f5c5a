using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using IlgpuVae.Training.IO;

namespace IlgpuVae.Training.Outputs;

/// <summary>
/// metrics.jsonl: one JSON object a line. The whole file is rewritten atomically after every line
/// (it holds a few dozen lines), so a reader or a killed job never sees a torn line.
/// </summary>
public sealed class MetricsLog
{
    // Relaxed escaping keeps "+00:00" and "AVX2+FMA" readable; the file is never embedded in HTML.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly StringBuilder _content = new();

    public MetricsLog(string path) => Path = path;

    /// <summary>A log that keeps the lines already in the file (a resumed run appends to its metrics).</summary>
    public static MetricsLog Continue(string path)
    {
        var log = new MetricsLog(path);
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path);
            // Whole lines only: text after the last newline is not a line this log wrote.
            int end = text.LastIndexOf('\n') + 1;
            log._content.Append(text, 0, end);
            log.Lines = text[..end].Count(c => c == '\n');
        }
        return log;
    }

    public string Path { get; }

    public int Lines { get; private set; }

    public void Append(JsonObject line)
    {
        _content.Append(line.ToJsonString(Json)).Append('\n');
        Lines++;
        AtomicFile.WriteAllText(Path, _content.ToString());
    }

    /// <summary>A JSON number, or null for NaN and infinities (which JSON cannot hold).</summary>
    public static JsonNode? Number(double? value) => value is { } v && double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>A number rounded to the given decimals (keeps the file readable; losses need no more than 1e-4).</summary>
    public static JsonNode? Rounded(double? value, int decimals) => Number(value is { } v ? Math.Round(v, decimals) : null);
}
