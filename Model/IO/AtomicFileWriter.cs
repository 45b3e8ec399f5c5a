namespace IlgpuVae.Model.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a
/// half-written file: a batch job killed mid-checkpoint must not leave a model that fails to load.
/// Lives in Model because safetensors files are written here and Model cannot reference Training;
/// <c>IlgpuVae.Training.IO.AtomicFile</c> exposes the same implementation to the rest of the program.
/// </summary>
public static class AtomicFileWriter
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the destination's directory (same file
    /// system, so the final rename is atomic), flushes it to disk and moves it over
    /// <paramref name="path"/>. If anything fails the temporary file is removed and the destination
    /// is left as it was.
    ///
    /// A symbolic link is written through: the file it names is replaced and the link stays, as a
    /// shell's redirection would do. A destination that is not a regular file (a FIFO, a device such
    /// as /dev/full, a directory) is refused, because the rename would replace the node itself.
    /// Failures of the file system (a full disk, no permission) name <paramref name="path"/>, never
    /// the temporary file the user has not heard of.
    /// </summary>
    /// <exception cref="IOException">The destination is not a regular file, or writing failed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);

        string fullPath = FinalTarget(Path.GetFullPath(path));
        string directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot write '{fullPath}': directory '{directory}' does not exist.");
        if (WhyNotReplaceable(fullPath) is { } problem)
            throw new IOException($"Cannot write '{path}': it {problem}.");

        // A leading dot keeps the partial file out of casual listings; the random part lets two
        // writers of the same destination proceed without clobbering each other's temporary file.
        string tempPath = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tempPath, fullPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tempPath);
            string reason = WithoutTemporaryPath(e.Message, tempPath);
            if (e is UnauthorizedAccessException)
                throw new UnauthorizedAccessException($"Cannot write '{path}': {reason}", e);
            throw new IOException($"Cannot write '{path}': {reason}", e);
        }
        catch
        {
            TryDelete(tempPath);
            throw;
        }
    }

    /// <summary>
    /// Null when an atomic write may replace (or create) <paramref name="path"/>; otherwise why not, as
    /// the rest of a sentence that starts with "it". Symbolic links are followed.
    /// </summary>
    public static string? WhyNotReplaceable(string path)
    {
        FileKind kind = FileKinds.Of(path);
        return kind switch
        {
            FileKind.RegularFile or FileKind.Missing or FileKind.Unknown => null,
            FileKind.Directory => "is a directory",
            _ => $"is {FileKinds.Describe(kind)}, not a regular file: writing a new file in its place would replace the {KindNoun(kind)} itself",
        };
    }

    /// <summary>The file a chain of symbolic links ends at (the path itself when it is no link).</summary>
    private static string FinalTarget(string fullPath)
    {
        var info = new FileInfo(fullPath);
        if (info.LinkTarget is null)
            return fullPath;
        // A dangling link resolves to the path it names, which the write then creates.
        return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? fullPath;
    }

    private static string KindNoun(FileKind kind) => kind switch
    {
        FileKind.Fifo => "FIFO",
        FileKind.Socket => "socket",
        _ => "device",
    };

    // .NET puts the path it failed on into its messages ("No space left on device : '/d/.x.<guid>.tmp'").
    private static string WithoutTemporaryPath(string message, string tempPath) =>
        message.Replace($" : '{tempPath}'", "", StringComparison.Ordinal)
               .Replace($"'{tempPath}'", "the temporary file", StringComparison.Ordinal)
               .Replace(tempPath, "the temporary file", StringComparison.Ordinal)
               .TrimEnd();

    private static void TryDelete(string tempPath)
    {
        try
        {
            File.Delete(tempPath);
        }
        catch (IOException)
        {
            // The original failure is the one worth reporting; a leftover temporary file is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
