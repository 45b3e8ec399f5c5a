using System.Security.Cryptography;
using System.Text;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// Compiled kernel images on disk, so that only the first start on a machine pays for NVRTC. The key
/// is a SHA-256 over everything that changes the image: the composed source (prelude, defines and
/// family), the target architecture, the compiler options and the NVRTC version. Files are written to
/// a temporary name and renamed, so concurrent jobs sharing a home directory never read half a file.
/// </summary>
internal sealed class CudaKernelCache(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>$XDG_CACHE_HOME/ilgpu-vae/cuda, else ~/.cache/ilgpu-vae/cuda (LocalAppData on Windows).</summary>
    public static string DefaultDirectory() => DefaultDirectory(Environment.GetEnvironmentVariable);

    /// <summary>The default directory under the given environment (a lookup, so tests need not change the process's).</summary>
    public static string DefaultDirectory(Func<string, string?> environment)
    {
        string? xdg = environment("XDG_CACHE_HOME");
        string root = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "ilgpu-vae", "cuda");
    }

    public static string Key(string composedSource, CudaTarget target, string nvrtcVersion, IReadOnlyList<string> options)
    {
        var text = new StringBuilder()
            .Append("ilgpu-vae cuda image v1\n")
            .Append("nvrtc ").Append(nvrtcVersion).Append('\n')
            .Append("target ").Append(target.Name).Append('\n')
            .Append("options ").Append(string.Join(' ', options)).Append('\n')
            .Append(composedSource);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public string PathFor(string family, string key, CudaTarget target)
    {
        string stem = Path.GetFileNameWithoutExtension(family);
        return Path.Combine(Directory, $"{stem}-{target.Name}-{key}.{(target.Real ? "cubin" : "ptx")}");
    }

    public bool TryRead(string family, string key, CudaTarget target, out byte[] image)
    {
        string path = PathFor(family, key, target);
        try
        {
            image = File.Exists(path) ? File.ReadAllBytes(path) : [];
            return image.Length > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            image = [];
            return false;
        }
    }

    /// <summary>
    /// Stores an image. A cache that cannot be written (read-only home in a batch job, full disk) only
    /// costs a compile on the next start, so write failures are not errors.
    /// </summary>
    public bool Write(string family, string key, CudaTarget target, byte[] image)
    {
        string path = PathFor(family, key, target);
        string temporary = Path.Combine(Directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllBytes(temporary, image);
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (Exception c) when (c is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }

    /// <summary>Removes an image the driver refused (a truncated or foreign file), so the next build compiles it again.</summary>
    public void Remove(string family, string key, CudaTarget target)
    {
        try { File.Delete(PathFor(family, key, target)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
