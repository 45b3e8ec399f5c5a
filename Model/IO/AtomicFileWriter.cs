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
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);

        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot write '{fullPath}': directory '{directory}' does not exist.");

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
        catch
        {
            TryDelete(tempPath);
            throw;
        }
    }

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
