namespace IlgpuVae.Host;

/// <summary>
/// stdout and stderr as writers that never stop the program (<see cref="DroppingTextWriter"/>), and
/// never write into a descriptor that is not theirs: a job started with stdout closed (`&gt;&amp;-`) has
/// descriptor 1 free, and the runtime's first pipe or file takes it, so "stdout" would be a pipe of the
/// runtime. Descriptors inherited through exec never carry close-on-exec, while the runtime opens all
/// of its own with it; on Linux /proc/self/fdinfo tells them apart.
/// </summary>
public static class ConsoleStreams
{
    private const int CloseOnExec = 0x80000; // O_CLOEXEC on Linux (x86-64, arm64)

    /// <summary>The program's (stdout, stderr), with a note on stderr when stdout was closed at start.</summary>
    public static (DroppingTextWriter Out, DroppingTextWriter Error) Open()
    {
        bool outClosed = IsClosedAtStart(1), errorClosed = IsClosedAtStart(2);
        var error = new DroppingTextWriter(errorClosed ? TextWriter.Null : OrNull(() => Console.Error), "stderr", complaints: null);
        var output = new DroppingTextWriter(outClosed ? TextWriter.Null : OrNull(() => Console.Out), "stdout", complaints: error);
        if (outClosed) error.WriteLine("ilgpu-vae: stdout is closed; dropping its output and going on");
        return (output, error);
    }

    /// <summary>Whether descriptor fd was closed when the program started (Linux; elsewhere false).</summary>
    public static bool IsClosedAtStart(int fd)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
                if (line.StartsWith("flags:", StringComparison.Ordinal))
                    return (Convert.ToInt32(line["flags:".Length..].Trim(), 8) & CloseOnExec) != 0;
            return false;
        }
        catch (FileNotFoundException)
        {
            return true; // no such descriptor at all
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return false; // no /proc: rely on the dropping writer alone
        }
    }

    /// <summary>Whether stdout is an interactive terminal (false when that cannot be told).</summary>
    public static bool IsTerminal()
    {
        try { return !Console.IsOutputRedirected && !IsClosedAtStart(1); }
        catch (IOException) { return false; }
    }

    // A console stream the runtime cannot even open becomes a null writer.
    private static TextWriter OrNull(Func<TextWriter> open)
    {
        try { return open(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return TextWriter.Null; }
    }
}
