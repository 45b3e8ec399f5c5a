using System.Text.Json;
using IlgpuVae.Host;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Tests.Training;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// The program must not die of its own log: the real program, started with stdout (and stderr)
/// closed, on a full disk (/dev/full) or into a pipe whose reader is gone, trains to the end, writes
/// every output and exits with 0.
/// </summary>
[TestClass]
public sealed class CliOutputFailureTests
{
    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    [DataRow("exec \"$0\" \"$@\" >&-", "stdout is closed")]
    [DataRow("exec \"$0\" \"$@\" >/dev/full", "cannot write to stdout (No space left on device)")]
    [DataRow("exec \"$0\" \"$@\" >&- 2>&-", null)]
    [DataRow("exec \"$0\" \"$@\" >/dev/full 2>/dev/full", null)]
    [DataRow("\"$0\" \"$@\" | head -c 0; exit ${PIPESTATUS[0]}", null)]
    public void TrainingGoesOnWhenItsOutputCannotBeWritten(string script, string? note)
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("bash redirections and /dev/full");
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 1000, testCount: 100);
        using var process = ProgramProcess.StartInBash(script,
            ["train", "--hidden", "16", "--latent", "2", "--batch-size", "50", "--epochs", "2", "--data", temp["data"], "--run-dir", temp["run"]]);

        Assert.AreEqual(ExitCodes.Ok, process.WaitForExit(), process.Error);
        if (note is not null) StringAssert.Contains(process.Error, note);
        foreach (string file in new[] { "model.safetensors", "samples.png", "reconstructions.png", "checkpoint.safetensors" })
            Assert.IsTrue(File.Exists(temp[Path.Combine("run", file)]), file);
        var last = JsonDocument.Parse(File.ReadAllLines(temp["run/metrics.jsonl"])[^1]).RootElement;
        Assert.AreEqual("end", last.GetProperty("type").GetString());
        Assert.AreEqual(40, last.GetProperty("step").GetInt32());
    }

    [TestMethod]
    public void TheDroppingWriterSwallowsWriteErrorsAndSaysSoOnce()
    {
        var complaints = new StringWriter();
        var writer = new DroppingTextWriter(new FailingWriter(), "stdout", complaints);
        writer.WriteLine("one");
        writer.Write("two");
        writer.Flush();
        Assert.IsTrue(writer.HasDropped);
        Assert.AreEqual("ilgpu-vae: cannot write to stdout (No space left on device); dropping its output and going on" + Environment.NewLine,
            complaints.ToString());
    }

    private sealed class FailingWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => throw new IOException("No space left on device");
        public override void Write(string? value) => throw new IOException("No space left on device");
        public override void WriteLine(string? value) => throw new IOException("No space left on device");
        public override void Flush() => throw new IOException("No space left on device");
    }
}
