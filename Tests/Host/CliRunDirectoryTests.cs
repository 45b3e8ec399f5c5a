using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.IO;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// A run directory belongs to one process at a time (an flock that dies with its holder), a default
/// directory is never shared by runs started in the same second, a requeued complete run always has
/// its outputs, a killed run's temporary files are cleared, and metrics.jsonl is appended in place.
/// </summary>
[TestClass]
public sealed class CliRunDirectoryTests
{
    private static string[] Train(string data, string? run, params string[] more) =>
        ["train", "--hidden", "32", "--latent", "4", "--batch-size", "64", "--seed", "5", "--eval-batch", "100", "--data", data,
            .. run is null ? Array.Empty<string>() : ["--run-dir", run], .. more];

    private static void WaitFor(Func<bool> condition, ProgramProcess process, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.IsFalse(process.HasExited, $"the program ended before {what}: {process.Error}");
            Assert.IsLessThan(60.0, clock.Elapsed.TotalSeconds, $"no {what} within 60 s");
            Thread.Sleep(20);
        }
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void ASecondProcessOnTheSameRunDirectoryExits2NamingTheHolderAndKill9LeavesNoStaleLock()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("flock and kill -9");
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 200);
        string run = temp["run"];
        using var first = ProgramProcess.Start(Train(temp["data"], run, "--resume", "--epochs", "1000"));
        WaitFor(() => File.Exists(Path.Combine(run, "metrics.jsonl")), first, "training");

        using (var second = ProgramProcess.Start(Train(temp["data"], run, "--resume", "--epochs", "1000")))
        {
            Assert.AreEqual(ExitCodes.Usage, second.WaitForExit(), second.Error);
            StringAssert.Contains(second.Error, $"pid {first.Id} ");
            StringAssert.Contains(second.Error, run);
        }
        // In-process too (another open file description of the same process is refused as well).
        var third = CliRunner.Run(Train(temp["data"], run, "--resume", "--epochs", "1000"));
        Assert.AreEqual(ExitCodes.Usage, third.ExitCode, third.Error);
        StringAssert.Contains(third.Error, $"pid {first.Id} ");

        // kill -9 gives the holder no chance to clean up; the kernel drops its lock with it.
        first.Signal("KILL");
        first.WaitForExit();
        var after = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "3"));
        Assert.AreEqual(ExitCodes.Ok, after.ExitCode, after.Error);
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void RunsStartedTogetherWithoutRunDirGetDirectoriesOfTheirOwn()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        // Two processes at once, as two tasks of a Slurm array in one working directory.
        using var a = ProgramProcess.Start(Train(temp["data"], null, "--max-steps", "2"), temp.Path);
        using var b = ProgramProcess.Start(Train(temp["data"], null, "--max-steps", "2"), temp.Path);
        Assert.AreEqual(ExitCodes.Ok, a.WaitForExit(), a.Error);
        Assert.AreEqual(ExitCodes.Ok, b.WaitForExit(), b.Error);
        var runs = Directory.GetDirectories(temp["runs"]);
        Assert.HasCount(2, runs, string.Join(", ", runs));
        foreach (string run in runs) Assert.AreEqual("2", VaeModelFile.Load(Path.Combine(run, "model.safetensors")).Metadata["steps"]);

        // The claim itself, raced by threads: every claim a directory of its own.
        var claims = new RunDirectoryLock[8];
        Parallel.For(0, claims.Length, i => claims[i] = RunDirectoryLock.CreateUnique(temp["claims"], "20260101-120000"));
        try
        {
            Assert.AreEqual(claims.Length, claims.Select(c => c.Directory).Distinct().Count());
            CollectionAssert.Contains(claims.Select(c => Path.GetFileName(c.Directory)).ToArray(), "20260101-120000-8");
        }
        finally
        {
            foreach (var claim in claims) claim.Dispose();
        }
    }

    [TestMethod]
    public void ACompleteRunWithMissingOrOutdatedOutputsGetsThemRewrittenOnResume()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        string run = temp["run"];
        var early = CliRunner.Run(Train(temp["data"], temp["early"], "--max-steps", "2"));
        Assert.AreEqual(ExitCodes.Ok, early.ExitCode, early.Error);
        var done = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "6"));
        Assert.AreEqual(ExitCodes.Ok, done.ExitCode, done.Error);
        string[] outputs = ["model.safetensors", "samples.png", "reconstructions.png"];
        var expected = outputs.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(run, f)));

        // As a kill -9 after the final checkpoint left it with an earlier version: no model, no images ...
        foreach (string f in outputs.Skip(0).Take(2)) File.Delete(Path.Combine(run, f));
        var requeued = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "6"));
        Assert.AreEqual(ExitCodes.Ok, requeued.ExitCode, requeued.Error);
        StringAssert.Contains(requeued.Out, "nothing to train");
        StringAssert.Contains(requeued.Out, "rewrote model.safetensors");
        foreach (string f in outputs) CollectionAssert.AreEqual(expected[f], File.ReadAllBytes(Path.Combine(run, f)), f);

        // ... or the outputs of an earlier stop (the model of step 2).
        File.Copy(Path.Combine(temp["early"], "model.safetensors"), Path.Combine(run, "model.safetensors"), overwrite: true);
        var again = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "6"));
        Assert.AreEqual(ExitCodes.Ok, again.ExitCode, again.Error);
        foreach (string f in outputs) CollectionAssert.AreEqual(expected[f], File.ReadAllBytes(Path.Combine(run, f)), f);

        // Current outputs are left alone.
        var untouched = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "6"));
        Assert.IsFalse(untouched.Out.Contains("rewrote"), untouched.Out);
    }

    [TestMethod]
    public void TheOutputsAreWrittenBeforeTheCheckpointThatCompletesTheRun()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        string run = temp["run"];
        // samples.png cannot be written (a directory is in its place): the run fails between the model and the images.
        Directory.CreateDirectory(Path.Combine(run, "samples.png"));
        var failed = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "4"));
        Assert.AreEqual(ExitCodes.Failure, failed.ExitCode, failed.Error);
        string checkpoint = Path.Combine(run, CheckpointFile.FileName);
        Assert.IsFalse(File.Exists(checkpoint) && CheckpointFile.Load(checkpoint).Position.Step == 4,
            "no checkpoint says the run is complete while its outputs are not written");

        Directory.Delete(Path.Combine(run, "samples.png"));
        var requeued = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "4"));
        Assert.AreEqual(ExitCodes.Ok, requeued.ExitCode, requeued.Error);
        Assert.IsFalse(requeued.Out.Contains("nothing to train"), requeued.Out);
        Assert.IsTrue(CliRunner.PngCheck(Path.Combine(run, "samples.png")).Ok);
        Assert.AreEqual(4, CheckpointFile.Load(checkpoint).Position.Step);
    }

    [TestMethod]
    public void TemporaryFilesOfAKilledRunAreRemovedOnStart()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        string run = temp["run"];
        Directory.CreateDirectory(run);
        string[] stale = [".checkpoint.safetensors.0123456789abcdef0123456789abcdef.tmp", ".model.safetensors.fedcba9876543210fedcba9876543210.tmp"];
        foreach (string name in stale) File.WriteAllBytes(Path.Combine(run, name), [1, 2, 3]);
        File.WriteAllText(Path.Combine(run, ".notes.tmp"), "not ours");

        var result = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "2"));
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        StringAssert.Contains(result.Out, "removed 2 temporary file(s)");
        foreach (string name in stale) Assert.IsFalse(File.Exists(Path.Combine(run, name)), name);
        Assert.IsTrue(File.Exists(Path.Combine(run, ".notes.tmp")), "a file of another name is left alone");
    }

    [TestMethod]
    public void MetricsAreAppendedInPlaceAndATornLastLineIsDroppedOnResume()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        string run = temp["run"], metrics = Path.Combine(run, "metrics.jsonl");
        Directory.CreateDirectory(run);
        File.WriteAllText(metrics, "");
        // A reader that holds the file open, as tail -f and log shippers do, sees every line the run writes.
        using var follower = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var result = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "3"));
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        string followed = new StreamReader(follower).ReadToEnd();
        Assert.AreEqual(File.ReadAllText(metrics), followed);
        StringAssert.Contains(followed, "\"type\":\"end\"");

        // A kill during a write leaves a torn line; the resumed run cuts it off and every line parses.
        File.AppendAllText(metrics, "{\"type\":\"epoch\",\"epo");
        var resumed = CliRunner.Run(Train(temp["data"], run, "--resume", "--max-steps", "5"));
        Assert.AreEqual(ExitCodes.Ok, resumed.ExitCode, resumed.Error);
        var types = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString()).ToArray();
        CollectionAssert.AreEqual(new[] { "run", "epoch", "end", "resume", "epoch", "end" }, types);
    }
}
