using System.Diagnostics;
using IlgpuVae.Host;
using IlgpuVae.Host.CommandLine;

namespace IlgpuVae.Tests.Host;

/// <summary>Runs the ilgpu-vae entry point in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result Run(params string[] args) => Run(CancellationToken.None, args);

    public static Result Run(CancellationToken cancellation, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Cli.Run(args, new CommandContext(output, error, cancellation, IsTerminal: false));
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>pngcheck's verdict on a file (the tool is installed by the project's setup script).</summary>
    public static (bool Ok, string Output) PngCheck(string path)
    {
        var info = new ProcessStartInfo("pngcheck", ["-v", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            if (IlgpuVae.Tests.Conformance.KernelConformance.IsCi) Assert.Fail("pngcheck is missing in CI (apt-get install pngcheck)");
            Assert.Inconclusive("pngcheck is not installed (apt-get install pngcheck)");
            throw;
        }
        using (process)
        {
            string text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0, text);
        }
    }

    /// <summary>Width and height from a PNG's IHDR chunk.</summary>
    public static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)),
            System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}

/// <summary>A temporary directory removed at the end of a test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ilgpu-vae-test-" + Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a leftover temp directory must not fail the test */ }
    }
}
