using System.Diagnostics;
using System.Text.Json;
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

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    [DataRow("USR1", "SIGUSR1: stopping")]
    [DataRow("HUP", "hangup (SIGHUP): stopping")]
    public void SigusrOneAndSighupStopTheRunLikeSigterm(string signal, string message)
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("POSIX signals");
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 200);
        using var process = ProgramProcess.Start(["train", "--hidden", "32", "--latent", "4", "--batch-size", "32", "--epochs", "1000",
            "--data", temp["data"], "--run-dir", temp["run"]]);
        WaitForFirstEpoch(temp["run/metrics.jsonl"], process);
        process.Signal(signal);

        Assert.AreEqual(ExitCodes.Interrupted, process.WaitForExit(), process.Error);
        StringAssert.Contains(process.Error, message);
        Assert.IsGreaterThanOrEqualTo(63L, CheckpointFile.Load(temp["run/checkpoint.safetensors"]).Position.Step);
        Assert.IsTrue(File.Exists(temp["run/model.safetensors"]));
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void ASignalDuringEvaluationStopsWithinAnEvaluationBatchAndTheResumeEvaluatesAgain()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("POSIX signals");
        using var temp = new TempDirectory();
        // One training step an epoch and a long evaluation (40,000 test images), with a model small
        // enough that writing the outputs after the stop takes a fraction of it.
        FashionMnist.WriteSubset(temp["data"], trainCount: 64, testCount: 40_000, testFromTraining: true);
        string metrics = temp["run/metrics.jsonl"];
        string[] train = ["train", "--hidden", "1024", "--batch-size", "64", "--eval-batch", "100", "--epochs", "1",
            "--data", temp["data"], "--run-dir", temp["run"], "--resume"];
        using var process = ProgramProcess.Start(train);
        // The run line comes just before the one step (well under a second), then the evaluation.
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"type\":\"run\"")))
        {
            Assert.IsFalse(process.HasExited, process.Error);
            Assert.IsLessThan(60.0, clock.Elapsed.TotalSeconds, "training did not start");
            Thread.Sleep(10);
        }
        Thread.Sleep(1000);
        var stop = Stopwatch.StartNew();
        process.Signal("TERM");
        int exit = process.WaitForExit();
        // On an idle machine the whole evaluation may end before the signal: nothing to measure then.
        if (exit == ExitCodes.Ok) Assert.Inconclusive("the evaluation ended before the signal came");
        Assert.AreEqual(ExitCodes.Interrupted, exit, process.Error);
        double stopSeconds = stop.Elapsed.TotalSeconds;

        var stopped = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("type").GetString() == "epoch");
        Assert.IsTrue(stopped.GetProperty("interrupted").GetBoolean());
        Assert.AreEqual(JsonValueKind.Null, stopped.GetProperty("test_loss").ValueKind);
        if (stopped.GetProperty("eval_seconds").GetDouble() == 0)
            Assert.Inconclusive($"the one training step took {stopped.GetProperty("epoch_seconds").GetDouble()} s: the signal came before the evaluation");

        // The resumed run redoes the evaluation; how long a whole one takes bounds how long the stop may wait.
        var resumed = CliRunner.Run(train);
        Assert.AreEqual(ExitCodes.Ok, resumed.ExitCode, resumed.Error);
        var evaluated = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement)
            .Last(l => l.GetProperty("type").GetString() == "epoch");
        Assert.AreEqual(1, evaluated.GetProperty("epoch").GetInt32());
        Assert.AreEqual(1, evaluated.GetProperty("resumed_at_step").GetInt32());
        Assert.IsGreaterThan(0.0, evaluated.GetProperty("test_loss").GetDouble());
        double evalSeconds = evaluated.GetProperty("eval_seconds").GetDouble();
        Assert.IsLessThan(evalSeconds / 3, stopSeconds, $"stopped {stopSeconds:F2} s after the signal; a whole evaluation takes {evalSeconds:F2} s");
    }

    private static void WaitForFirstEpoch(string metrics, ProgramProcess process)
    {
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"type\":\"epoch\"")))
        {
            Assert.IsFalse(process.HasExited, $"the run ended before the signal: {process.Error}");
            Assert.IsLessThan(60.0, clock.Elapsed.TotalSeconds, "training did not start");
            Thread.Sleep(20);
        }
    }
}
