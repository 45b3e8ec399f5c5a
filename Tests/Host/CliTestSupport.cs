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

/// <summary>The real ilgpu-vae program in a process of its own (signals, locks and closed streams need one).</summary>
internal sealed class ProgramProcess : IDisposable
{
    public static string Program => System.IO.Path.Combine(AppContext.BaseDirectory, "ilgpu-vae");

    private readonly Process _process;
    private readonly Task<string> _out, _error;

    private ProgramProcess(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        _process = Process.Start(info)!;
        _out = _process.StandardOutput.ReadToEndAsync();
        _error = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts `ilgpu-vae args`.</summary>
    public static ProgramProcess Start(string[] args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(Program) { WorkingDirectory = workingDirectory ?? "" };
        foreach (string a in args) info.ArgumentList.Add(a);
        return new ProgramProcess(info);
    }

    /// <summary>
    /// Runs a bash script in which "$0" is the program and "$@" the arguments, e.g.
    /// <c>exec "$0" "$@" &gt;&amp;-</c> (stdout closed) or <c>exec "$0" "$@" &gt;/dev/full</c> (a full disk).
    /// </summary>
    public static ProgramProcess StartInBash(string script, string[] args)
    {
        var info = new ProcessStartInfo("bash");
        foreach (string a in (string[])["-c", script, Program, .. args]) info.ArgumentList.Add(a);
        return new ProgramProcess(info);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the exit (failing the test after the timeout) and returns the code.</summary>
    public int WaitForExit(int timeoutSeconds = 120)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            _process.Kill();
            Assert.Fail($"ilgpu-vae did not end within {timeoutSeconds} s: {Error}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public string Out => _process.HasExited ? _out.Result : "(running)";

    public string Error => _process.HasExited ? _error.Result : "(running)";

    /// <summary>Sends a signal by name (TERM, USR1, HUP, KILL) through kill(1).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }
}
