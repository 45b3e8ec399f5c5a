using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// `train --run-dir DIR --resume` as a batch job uses it: the same command line starts the run and
/// continues it after a stop, and the finished model is byte for byte the one of an uninterrupted run.
/// </summary>
[TestClass]
public sealed class CliResumeTests
{
    // 600 images in batches of 64: 10 steps an epoch, the last of 24.
    private static string[] Train(string data, string run, params string[] more) =>
        ["train", "--hidden", "32", "--latent", "4", "--batch-size", "64", "--seed", "9", "--binarize",
            "--eval-batch", "100", "--data", data, "--run-dir", run, .. more, .. more.Contains("--epochs") ? [] : new[] { "--epochs", "2" }];

    private static JsonElement[] Metrics(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    [TestMethod]
    public void StopAndResumeWithTheSameCommandLineGivesTheUninterruptedModel()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 200);

        var straight = CliRunner.Run(Train(temp["data"], temp["straight"]));
        Assert.AreEqual(ExitCodes.Ok, straight.ExitCode, straight.Error);

        // First submission: stopped by a step limit mid-epoch 1 (as a wall-clock limit would stop it).
        var first = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "6"));
        Assert.AreEqual(ExitCodes.Ok, first.ExitCode, first.Error);
        Assert.IsTrue(File.Exists(temp["run/checkpoint.safetensors"]));
        // Second: interrupted before its first step (a signal that arrives at once).
        using (var cancel = new CancellationTokenSource())
        {
            cancel.Cancel();
            var second = CliRunner.Run(cancel.Token, Train(temp["data"], temp["run"], "--resume", "--max-steps", "100"));
            Assert.AreEqual(ExitCodes.Interrupted, second.ExitCode, second.Error);
            StringAssert.Contains(second.Error, "--resume");
        }
        // Third: runs to the end.
        var third = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "100"));
        Assert.AreEqual(ExitCodes.Ok, third.ExitCode, third.Error);
        StringAssert.Contains(third.Out, "resuming");
        StringAssert.Contains(third.Out, "step 6 of 10");

        CollectionAssert.AreEqual(File.ReadAllBytes(temp["straight/model.safetensors"]), File.ReadAllBytes(temp["run/model.safetensors"]),
            "the model of the resumed run (parameters and metadata) is the uninterrupted run's");
        CollectionAssert.AreEqual(File.ReadAllBytes(temp["straight/samples.png"]), File.ReadAllBytes(temp["run/samples.png"]));

        var lines = Metrics(temp["run"]);
        Assert.AreEqual(1, lines.Count(l => l.GetProperty("type").GetString() == "run"));
        Assert.AreEqual(2, lines.Count(l => l.GetProperty("type").GetString() == "resume"));
        var epochs = lines.Where(l => l.GetProperty("type").GetString() == "epoch" && !l.GetProperty("interrupted").GetBoolean()).ToArray();
        var expected = Metrics(temp["straight"]).Where(l => l.GetProperty("type").GetString() == "epoch").ToArray();
        // The partial epoch 1 (6 steps), its completion (resumed at step 6), epoch 2.
        Assert.AreEqual(3, epochs.Length);
        Assert.AreEqual(6, epochs[1].GetProperty("resumed_at_step").GetInt32());
        Assert.AreEqual(expected[0].GetProperty("train_loss").GetDouble(), epochs[1].GetProperty("train_loss").GetDouble());
        Assert.AreEqual(expected[0].GetProperty("test_loss").GetDouble(), epochs[1].GetProperty("test_loss").GetDouble());
        Assert.AreEqual(expected[1].GetProperty("test_loss").GetDouble(), epochs[2].GetProperty("test_loss").GetDouble());

        // Once complete, the same command line changes nothing and succeeds; more epochs extend it.
        var modelBefore = File.ReadAllBytes(temp["run/model.safetensors"]);
        var again = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "100"));
        Assert.AreEqual(ExitCodes.Ok, again.ExitCode, again.Error);
        StringAssert.Contains(again.Out, "nothing to train");
        CollectionAssert.AreEqual(modelBefore, File.ReadAllBytes(temp["run/model.safetensors"]));
        var longer = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "100", "--epochs", "3"));
        Assert.AreEqual(ExitCodes.Ok, longer.ExitCode, longer.Error);
        Assert.AreEqual("30", VaeModelFile.Load(temp["run/model.safetensors"]).Metadata["steps"]);
    }

    [TestMethod]
    public void ResumeNeedsARunDirectoryAndKeepsTheRunsSettings()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        var noDir = CliRunner.Run("train", "--resume", "--data", temp["data"]);
        Assert.AreEqual(ExitCodes.Usage, noDir.ExitCode);
        StringAssert.Contains(noDir.Error, "--run-dir");

        var first = CliRunner.Run(Train(temp["data"], temp["run"], "--max-steps", "3"));
        Assert.AreEqual(ExitCodes.Ok, first.ExitCode, first.Error);

        var clash = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--lr", "0.01"));
        Assert.AreEqual(ExitCodes.Usage, clash.ExitCode);
        StringAssert.Contains(clash.Error, "'--lr': 0.01 differs from the resumed run's 0.001");
        var hidden = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--hidden", "64"));
        Assert.AreEqual(ExitCodes.Usage, hidden.ExitCode);
        StringAssert.Contains(hidden.Error, "'--hidden'");

        // Without --resume, a directory that holds a run is not overwritten.
        var overwrite = CliRunner.Run(Train(temp["data"], temp["run"]));
        Assert.AreEqual(ExitCodes.Usage, overwrite.ExitCode);
        StringAssert.Contains(overwrite.Error, "already holds a run");
        Assert.AreEqual("3", VaeModelFile.Load(temp["run/model.safetensors"]).Metadata["steps"]);

        // Options left out come from the checkpoint, the data directory included.
        var bare = CliRunner.Run("train", "--run-dir", temp["run"], "--resume", "--max-steps", "5");
        Assert.AreEqual(ExitCodes.Ok, bare.ExitCode, bare.Error);
        var model = VaeModelFile.Load(temp["run/model.safetensors"]);
        Assert.AreEqual(new VaeConfig { Hidden = [32], Latent = 4 }, model.Config);
        Assert.AreEqual("5", model.Metadata["steps"]);
        Assert.AreEqual("9", model.Metadata["seed"]);
    }

    [TestMethod]
    public void ADamagedCheckpointOrOtherDataIsExitCode3NamingIt()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        FashionMnist.WriteSubset(temp["other"], trainCount: 310, testCount: 100);
        var first = CliRunner.Run(Train(temp["data"], temp["run"], "--max-steps", "2"));
        Assert.AreEqual(ExitCodes.Ok, first.ExitCode, first.Error);

        var otherData = CliRunner.Run(Train(temp["other"], temp["run"], "--resume", "--max-steps", "4"));
        Assert.AreEqual(ExitCodes.DataError, otherData.ExitCode, otherData.Error);
        StringAssert.Contains(otherData.Error, "310 training");

        string checkpoint = temp["run/checkpoint.safetensors"];
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var damaged = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "4"));
        Assert.AreEqual(ExitCodes.DataError, damaged.ExitCode, damaged.Error);
        StringAssert.Contains(damaged.Error, "checkpoint.safetensors");
    }

    [TestMethod]
    public void CheckpointEverySavesBetweenEpochs()
    {
        // Through the run itself: a reporter that reads the checkpoint file at each step's progress.
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 100);
        var data = IdxDataSet.Load(temp["data"]);
        using var acc = new IlgpuVae.Kernels.Cpu.CpuAccelerator();
        var seen = new List<long>();
        var reporter = new CheckpointWatcher(Path.Combine(temp["run"], CheckpointFile.FileName), seen);
        var settings = new TrainingRunSettings(new VaeConfig { Hidden = [16], Latent = 2 },
            new TrainingOptions { Epochs = 1, BatchSize = 64, ProgressEvery = 1 }, temp["run"], temp["data"]) { CheckpointEvery = 4 };
        TrainingRun.Execute(acc, data, settings, reporter);
        // Progress after steps 1..9 (not after the epoch's last): the file holds the last multiple of 4.
        CollectionAssert.AreEqual(new long[] { -1, -1, -1, 4, 4, 4, 4, 8, 8 }, seen);
        Assert.AreEqual(10, CheckpointFile.Load(Path.Combine(temp["run"], CheckpointFile.FileName)).Position.Step);
    }

    private sealed class CheckpointWatcher(string path, List<long> seen) : ITrainingReporter
    {
        public void Info(string line) { }
        public void Epoch(EpochResult result) { }
        public void Progress(TrainingProgress progress) =>
            seen.Add(File.Exists(path) ? CheckpointFile.Load(path).Position.Step : -1);
    }
}
