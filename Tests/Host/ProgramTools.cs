using System.Diagnostics;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// The real ilgpu-vae program in a process of its own, for conditions that cannot be made inside the
/// test process: a GC heap limit, a private mount namespace with a full file system.
/// </summary>
internal static class ProgramTools
{
    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "ilgpu-vae");

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>; fails the test if it outlives <paramref name="timeout"/>.</summary>
    public static CliRunner.Result Run(string file, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) info.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{file} {string.Join(' ', args)}' did not end within {timeout.TotalSeconds} s");
        }
        process.WaitForExit();
        return new CliRunner.Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a shell tool (mkfifo, mknod, ...); true when it succeeded.</summary>
    public static bool Tool(string tool, params string[] args)
    {
        try
        {
            return Run(tool, args, TimeSpan.FromSeconds(20)).ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>A FIFO made by mkfifo(1), as a user would make one.</summary>
    public static void MakeFifo(string path)
    {
        if (!OperatingSystem.IsLinux() || !Tool("mkfifo", path)) Assert.Inconclusive("mkfifo is not available");
    }

    /// <summary>A tiny model file (4 pixels, 2x2 images) that sample can draw from.</summary>
    public static string TinyModel(string path)
    {
        var config = new VaeConfig { Input = 4, ImageHeight = 2, ImageWidth = 2, Hidden = [3], Latent = 2 };
        VaeModelFile.Save(path, config, new float[new ParameterLayout(config).Length]);
        return path;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on another thread and fails the test if it has not returned
    /// after <paramref name="timeout"/>: a read that blocks (a FIFO with no writer) must not hang the
    /// test run. <paramref name="unblock"/> then releases the stuck thread.
    /// </summary>
    public static T WithoutHanging<T>(Func<T> action, TimeSpan timeout, Action unblock)
    {
        var task = Task.Factory.StartNew(action, TaskCreationOptions.LongRunning);
        if (!task.Wait(timeout))
        {
            // Itself on a task: releasing must not become the next thing that blocks.
            Task.Run(unblock).Wait(TimeSpan.FromSeconds(5));
            Assert.Fail($"blocked for more than {timeout.TotalSeconds} s");
        }
        return task.Result;
    }

    /// <summary>Opens a FIFO for writing without blocking (a reader is waiting), which ends a blocked open of its reader.</summary>
    public static void ReleaseFifo(string path)
    {
        try
        {
            using var writer = new FileStream(path, FileMode.Open, FileAccess.Write);
        }
        catch (IOException)
        {
        }
    }
}
