using System.Runtime.InteropServices;

namespace IlgpuVae.Model.IO;

/// <summary>What a path names, as the kernel sees it after following symbolic links.</summary>
public enum FileKind
{
    Missing,
    RegularFile,
    Directory,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
    /// <summary>Could not be told (no permission to look, or a platform without statx): let the open decide.</summary>
    Unknown,
}

/// <summary>
/// Tells regular files from directories, FIFOs and devices before anything opens them: opening a FIFO
/// for reading blocks until some other process writes to it (a batch job would hang with no message),
/// reading /dev/zero never ends, and an atomic rename over /dev/full would replace the device node.
/// .NET reports only "file" or "directory", so on Linux this asks statx(2), whose struct has one
/// layout on every architecture; elsewhere it falls back to what .NET tells.
/// </summary>
public static partial class FileKinds
{
    /// <summary>The kind of <paramref name="path"/>, following symbolic links (a dangling link is Missing).</summary>
    public static FileKind Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsLinux() && TryStatx(path, out FileKind kind))
            return kind;
        if (Directory.Exists(path))
            return FileKind.Directory;
        return File.Exists(path) ? FileKind.RegularFile : FileKind.Missing;
    }

    /// <summary>"a directory", "a FIFO (named pipe)", ...: what follows "is" in a message.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.RegularFile => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "of an unknown kind",
    };

    /// <summary>
    /// Null when <paramref name="path"/> may be opened for reading as a file (a regular file, or one
    /// whose kind cannot be told: the open then reports the real problem); otherwise why not, as the
    /// rest of a sentence that starts with the path. A missing path is left to the caller.
    /// </summary>
    public static string? WhyNotReadable(string path)
    {
        FileKind kind = Of(path);
        return kind switch
        {
            FileKind.RegularFile or FileKind.Missing or FileKind.Unknown => null,
            FileKind.Directory => "is a directory, not a file",
            _ => $"is {Describe(kind)}, not a regular file; reading it could block or never end, so it is refused",
        };
    }

    // statx(2): int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf).
    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 0x0001;
    private const int StatxBufferBytes = 256;
    private const int StatxModeOffset = 28; // after mask, blksize, attributes, nlink, uid, gid
    private const int ErrorNoEntry = 2, ErrorNotDirectory = 20;

    [LibraryImport("libc.so.6", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    private static bool _statxMissing;

    private static unsafe bool TryStatx(string path, out FileKind kind)
    {
        kind = FileKind.Unknown;
        if (_statxMissing)
            return false;
        byte* buffer = stackalloc byte[StatxBufferBytes];
        int result;
        try
        {
            result = Statx(AtCurrentDirectory, path, 0, StatxType, buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl, or a glibc older than 2.28: fall back to what .NET can tell.
            _statxMissing = true;
            return false;
        }
        if (result != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            // Anything but "no such entry" (no permission, a link loop) is left for the open to report.
            kind = error is ErrorNoEntry or ErrorNotDirectory ? FileKind.Missing : FileKind.Unknown;
            return true;
        }
        int mode = *(ushort*)(buffer + StatxModeOffset);
        kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.RegularFile,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
        return true;
    }
}
