using System.Text;

namespace IlgpuVae.Host;

/// <summary>
/// A console stream that can fail without failing the program: a write error (stdout closed, a full
/// disk behind a redirection, a pipe whose reader is gone, a hung-up terminal) drops that text, says
/// so once on the complaint writer (stderr, itself one of these) and lets the caller go on. A training
/// job of hours must never die of its log; its results are in the run directory, not on stdout.
/// </summary>
public sealed class DroppingTextWriter(TextWriter inner, string name, TextWriter? complaints) : TextWriter
{
    private int _failed;

    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    /// <summary>Whether a write has failed (the output is incomplete).</summary>
    public bool HasDropped => Volatile.Read(ref _failed) != 0;

    public override void Write(char value) => Guard(() => inner.Write(value));

    public override void Write(string? value) => Guard(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        string text = buffer.ToString();
        Guard(() => inner.Write(text));
    }

    public override void WriteLine() => Guard(inner.WriteLine);

    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));

    public override void WriteLine(ReadOnlySpan<char> buffer)
    {
        string text = buffer.ToString();
        Guard(() => inner.WriteLine(text));
    }

    public override void Flush() => Guard(inner.Flush);

    private void Guard(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or NotSupportedException)
        {
            // Reported once: a full disk fails every later line too.
            if (Interlocked.Exchange(ref _failed, 1) == 0)
                complaints?.WriteLine($"ilgpu-vae: cannot write to {name} ({e.Message}); dropping its output and going on");
        }
    }
}
