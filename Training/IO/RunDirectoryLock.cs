using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace IlgpuVae.Training.IO;

/// <summary>Another process holds the run directory's lock: two runs must never write one directory.</summary>
public sealed class RunDirectoryLockedException(string directory, string holder)
    : Exception($"run directory '{directory}' is in use by {holder}; two runs must not share a directory " +
        $"(wait for it to end, or choose another --run-dir)")
{
    public string Directory { get; } = directory;
}

/// <summary>
/// An exclusive lock on a run directory, held for the life of a training process: the file train.lock
/// opened with FileShare.None, which .NET implements on Unix with flock(LOCK_EX | LOCK_NB). The kernel
/// drops the lock when the process ends in any way (kill -9 included), so a lock is never stale; the
/// file itself stays and holds the pid and host of its last holder, which a refused process reports.
/// flock works across the nodes of NFS (Linux emulates it with POSIX locks there); on Lustre it needs
/// the "flock" mount option, without which the file system ignores it.
/// </summary>
public sealed partial class RunDirectoryLock : IDisposable
{
    public const string FileName = "train.lock";

    private readonly FileStream _stream;

    private RunDirectoryLock(FileStream stream, string directory)
    {
        _stream = stream;
        Directory = directory;
        // Who holds it, for the message of a process refused: "pid 1234 on node07 since 2026-...".
        string holder = $"pid {Environment.ProcessId} on {Environment.MachineName} since " +
            DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture) + "\n";
        stream.SetLength(0);
        stream.Write(Encoding.UTF8.GetBytes(holder));
        stream.Flush();
    }

    public string Directory { get; }

    public string LockPath => Path.Combine(Directory, FileName);

    /// <summary>
    /// Creates the directory if needed and locks it; throws <see cref="RunDirectoryLockedException"/>
    /// naming the holder when another process has it.
    /// </summary>
    public static RunDirectoryLock Acquire(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        try
        {
            return new RunDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), directory);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && IsHeld(path))
        {
            throw new RunDirectoryLockedException(directory, Holder(path));
        }
    }

    /// <summary>
    /// A new run directory of its own under parent, named stem, stem-2, stem-3, ...: a name is claimed by
    /// creating its lock file exclusively, so two processes started in the same second (the tasks of a
    /// Slurm array) never share one, on one node or across the nodes of a shared file system.
    /// </summary>
    public static RunDirectoryLock CreateUnique(string parent, string stem)
    {
        for (int n = 1; ; n++)
        {
            string directory = Path.Combine(parent, n == 1 ? stem : $"{stem}-{n}");
            if (System.IO.Directory.Exists(directory)) continue;
            System.IO.Directory.CreateDirectory(directory);
            try
            {
                return new RunDirectoryLock(new FileStream(Path.Combine(directory, FileName), FileMode.CreateNew, FileAccess.ReadWrite,
                    FileShare.None), directory);
            }
            catch (IOException) when (File.Exists(Path.Combine(directory, FileName)))
            {
                // Another process created the same directory a moment earlier: take the next name.
            }
        }
    }

    /// <summary>Whether the lock at path is held now (an open with FileShare.None fails while it is).</summary>
    private static bool IsHeld(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            return true;
        }
    }

    /// <summary>
    /// What the holder wrote into the lock file. .NET's own opens take a shared flock, which the holder's
    /// exclusive one refuses, so the file is read through a plain open(2).
    /// </summary>
    private static string Holder(string path)
    {
        const string unknown = "another process";
        if (OperatingSystem.IsWindows()) return unknown;
        int fd = PosixOpen(path, 0 /* O_RDONLY */);
        if (fd < 0) return unknown;
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var buffer = new byte[256];
        int read = RandomAccess.Read(handle, buffer, 0);
        string text = Encoding.UTF8.GetString(buffer, 0, read).Trim();
        return text.StartsWith("pid ", StringComparison.Ordinal) ? $"{text} (lock file {path})" : $"{unknown} (lock file {path})";
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PosixOpen(string path, int flags);

    public void Dispose() => _stream.Dispose();

    /// <summary>Whether directory holds nothing but the lock file (a run that wrote nothing yet).</summary>
    public static bool HoldsOnlyTheLock(string directory)
    {
        try
        {
            return System.IO.Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).SequenceEqual([FileName]);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Removes a run directory that holds only its (released) lock file; leaves anything else alone.</summary>
    public static void RemoveEmpty(string directory)
    {
        try
        {
            if (!HoldsOnlyTheLock(directory)) return;
            File.Delete(Path.Combine(directory, FileName));
            System.IO.Directory.Delete(directory);
        }
        catch (IOException) { /* another process claimed it meanwhile: it is theirs now */ }
        catch (UnauthorizedAccessException) { }
    }
}
