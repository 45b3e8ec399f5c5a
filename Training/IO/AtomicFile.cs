using System.Text;
using System.Text.RegularExpressions;
using IlgpuVae.Model.IO;

namespace IlgpuVae.Training.IO;

/// <summary>
/// Atomic replacement of run outputs (metrics, images, models): a temporary file in the same
/// directory, then a rename over the destination. One implementation, shared with the model files.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/>; the destination changes only if it returns.</summary>
    public static void Write(string path, Action<Stream> write) => AtomicFileWriter.Write(path, write);

    /// <summary>Writes <paramref name="contents"/> as UTF-8 without a byte order mark.</summary>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
            writer.Write(contents);
        });
    }

    /// <summary>Writes <paramref name="bytes"/> as the whole content of the file.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        // A span cannot be captured by the callback, so the bytes are copied once.
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>
    /// Deletes the temporary files that <see cref="Write"/> leaves when its process is killed between
    /// creating and renaming one (".NAME.GUID.tmp"), returning their names. Only for a directory this
    /// process holds the lock of: another writer's temporary file would be in use.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaryFiles(string directory)
    {
        var removed = new List<string>();
        foreach (string path in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            string name = Path.GetFileName(path);
            if (!TemporaryName().IsMatch(name)) continue;
            try
            {
                File.Delete(path);
                removed.Add(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file that cannot go stays: it is hidden and never read, so the run goes on.
            }
        }
        return removed;
    }

    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TemporaryName();
}
