using System.Diagnostics;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// The real program in its own process, stopped by a real SIGTERM as a batch scheduler sends it: it
/// finishes the step, writes the checkpoint and its outputs, exits with 130, and the resumed run ends
/// with exactly the model of a run that never stopped.
/// </summary>
[TestClass]
public sealed class CliSignalTests
{
    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void SigtermWritesACheckpointThatResumesExactly()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("POSIX signals");
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 200);
        string[] common = ["--hidden", "64", "--latent", "8", "--batch-size", "32", "--seed", "4", "--epochs", "1000", "--data", temp["data"]];

        string program = Path.Combine(AppContext.BaseDirectory, "ilgpu-vae");
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])["train", .. common, "--run-dir", temp["run"], "--resume"]) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // Signal once training has run a little: the first epoch line (63 steps) is in the metrics.
        string metrics = temp["run/metrics.jsonl"];
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"type\":\"epoch\"")))
        {
            Assert.IsFalse(process.HasExited, $"the run ended before the signal: {stderr.Result}");
            Assert.IsLessThan(60.0, clock.Elapsed.TotalSeconds, "training did not start");
            Thread.Sleep(20);
        }
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        process.WaitForExit();

        Assert.AreEqual(ExitCodes.Interrupted, process.ExitCode, stdout.Result + stderr.Result);
        StringAssert.Contains(stderr.Result, "terminated: stopping after the current step");
        StringAssert.Contains(stderr.Result, "--resume");
        var checkpoint = CheckpointFile.Load(temp["run/checkpoint.safetensors"]);
        long stoppedAt = checkpoint.Position.Step;
        Assert.IsGreaterThanOrEqualTo(63L, stoppedAt);
        Assert.IsTrue(File.Exists(temp["run/model.safetensors"]));

        // Resume a few steps past the stop, and compare with a run that went there in one go.
        string until = (stoppedAt + 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var resumed = CliRunner.Run(["train", .. common, "--run-dir", temp["run"], "--resume", "--max-steps", until]);
        Assert.AreEqual(ExitCodes.Ok, resumed.ExitCode, resumed.Error);
        var straight = CliRunner.Run(["train", .. common, "--run-dir", temp["straight"], "--max-steps", until]);
        Assert.AreEqual(ExitCodes.Ok, straight.ExitCode, straight.Error);
        CollectionAssert.AreEqual(File.ReadAllBytes(temp["straight/model.safetensors"]), File.ReadAllBytes(temp["run/model.safetensors"]));
    }
}
