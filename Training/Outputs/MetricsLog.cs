using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IlgpuVae.Training.Outputs;

/// <summary>
/// metrics.jsonl: one JSON object a line, appended in one write each, so `tail -f` and log shippers
/// follow the file as it grows. The lines that matter after a crash (epochs, the end) are flushed to
/// disk before the run goes on. A kill during a write can leave a torn last line; a resumed run
/// drops it before appending (<see cref="Continue"/>).
/// </summary>
public sealed class MetricsLog
{
    // Relaxed escaping keeps "+00:00" and "AVX2+FMA" readable; the file is never embedded in HTML.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private MetricsLog(string path, int lines)
    {
        Path = path;
        Lines = lines;
    }

    /// <summary>A new log: the file is created, or emptied when a run that left no checkpoint wrote one before.</summary>
    public static MetricsLog Start(string path)
    {
        using (new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { }
        return new MetricsLog(path, 0);
    }

    /// <summary>
    /// A log that keeps the lines already in the file (a resumed run appends to its metrics). Text after
    /// the last newline is the torn end of a line whose writer was killed: it is cut off, so that the
    /// next line starts on a line of its own and every line parses.
    /// </summary>
    public static MetricsLog Continue(string path)
    {
        if (!File.Exists(path)) return Start(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        int end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        if (end < bytes.Length)
        {
            stream.SetLength(end);
            stream.Flush(flushToDisk: true);
        }
        return new MetricsLog(path, bytes.AsSpan(0, end).Count((byte)'\n'));
    }

    public string Path { get; }

    public int Lines { get; private set; }

    /// <summary>Appends one line; durable lines are on disk when this returns (fsync), the others when the system writes them.</summary>
    public void Append(JsonObject line, bool durable = false)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line.ToJsonString(Json) + "\n");
        using (var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: durable);
        }
        Lines++;
    }

    /// <summary>
    /// Appends a line that reports a failure, if it can: on a full disk the line fails too, and the
    /// failure it reports is the one worth raising.
    /// </summary>
    public void TryAppend(JsonObject line, bool durable = false)
    {
        try { Append(line, durable); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>A JSON number, or null for NaN and infinities (which JSON cannot hold).</summary>
    public static JsonNode? Number(double? value) => value is { } v && double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>A number rounded to the given decimals (keeps the file readable; losses need no more than 1e-4).</summary>
    public static JsonNode? Rounded(double? value, int decimals) => Number(value is { } v ? Math.Round(v, decimals) : null);
}
