using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Model;
using IlgpuVae.Tests.Conformance;
using IlgpuVae.Tests.Host;
using IlgpuVae.Tests.Training;

namespace IlgpuVae.Tests.Distributed;

/// <summary>
/// The real program under the real launchers of both MPI families (Open MPI's mpirun, MPICH's Hydra
/// mpiexec): ranks split every batch with the single-process noise and sum their gradients, so a run on
/// two ranks is the run on one up to the order of float sums; a checkpoint resumes at another rank
/// count; a failing rank ends the whole job; rank 0 alone writes.
/// </summary>
[TestClass]
public sealed class MpiTrainingTests
{
    private const double Tolerance = 1e-4;

    public TestContext TestContext { get; set; } = null!;

    private static string[] Launcher(string family, int ranks) => family switch
    {
        "openmpi" => ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString()],
        "mpich" => ["mpiexec.mpich", "-n", ranks.ToString()],
        _ => throw new ArgumentException(family),
    };

    private static void RequireLauncher(string family)
    {
        string path = "/usr/bin/" + Launcher(family, 1)[0];
        if (File.Exists(path)) return;
        string why = $"{path} is not installed (Debian: {(family == "openmpi" ? "openmpi-bin" : "mpich")})";
        if (KernelConformance.IsCi) Assert.Fail(why);
        Assert.Inconclusive(why);
    }

    private static (int ExitCode, string Output, double Seconds) Run(string[] command, int timeoutSeconds = 180)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in command.Skip(1)) info.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{string.Join(' ', command)}' did not end within {timeoutSeconds} s");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result, clock.Elapsed.TotalSeconds);
    }

    private static string[] Train(string data, string run, params string[] more) =>
        [ProgramTools.ProgramPath, "train", "--data", data, "--run-dir", run, "--hidden", "48", "--latent", "6", "--batch-size", "64",
            "--eval-batch", "250", "--quiet", .. more];

    private static JsonElement LastEpoch(string run) => File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement).Last(l => l.GetProperty("type").GetString() == "epoch");

    private static void AssertSameRun(string expectedRun, string actualRun, string what)
    {
        foreach (string loss in new[] { "train_loss", "test_loss" })
        {
            double expected = LastEpoch(expectedRun).GetProperty(loss).GetDouble(), actual = LastEpoch(actualRun).GetProperty(loss).GetDouble();
            Assert.AreEqual(expected, actual, Tolerance * Math.Abs(expected), $"{what}: {loss}");
        }
        var a = VaeModelFile.Load(Path.Combine(expectedRun, "model.safetensors")).Parameters;
        var b = VaeModelFile.Load(Path.Combine(actualRun, "model.safetensors")).Parameters;
        Assert.HasCount(a.Length, b);
        double scale = a.Max(v => Math.Abs((double)v)), worst = a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
        Assert.IsLessThanOrEqualTo(Tolerance * scale, worst, $"{what}: parameters differ by up to {worst:G3} (largest {scale:G3})");
    }

    [TestMethod]
    [DataRow("openmpi")]
    [DataRow("mpich")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void TwoRanksTrainTheRunOfOneRank(string family)
    {
        RequireLauncher(family);
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 3000, testCount: 500);
        var one = Run(Train(temp["data"], temp["one"], "--max-steps", "100", "--binarize"));
        Assert.AreEqual(0, one.ExitCode, one.Output);
        var two = Run([.. Launcher(family, 2), .. Train(temp["data"], temp["two"], "--max-steps", "100", "--binarize")]);
        Assert.AreEqual(0, two.ExitCode, two.Output);

        AssertSameRun(temp["one"], temp["two"], $"{family}, 2 ranks against 1");
        var runLine = JsonDocument.Parse(File.ReadLines(temp["two/metrics.jsonl"]).First()).RootElement;
        Assert.AreEqual(2, runLine.GetProperty("ranks").GetInt32());
        // Rank 0 alone writes: one run line, one end line.
        Assert.AreEqual(1, File.ReadAllLines(temp["two/metrics.jsonl"]).Count(l => l.Contains("\"type\":\"end\"")));
    }

    [TestMethod]
    [DataRow("openmpi")]
    [DataRow("mpich")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void ACheckpointResumesAtAnotherRankCount(string family)
    {
        RequireLauncher(family);
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 3000, testCount: 500);
        var whole = Run(Train(temp["data"], temp["whole"], "--max-steps", "80"));
        Assert.AreEqual(0, whole.ExitCode, whole.Output);

        // Two ranks to step 30, then one rank on to 80.
        var first = Run([.. Launcher(family, 2), .. Train(temp["data"], temp["down"], "--max-steps", "30", "--resume")]);
        Assert.AreEqual(0, first.ExitCode, first.Output);
        var rest = Run(Train(temp["data"], temp["down"], "--max-steps", "80", "--resume"));
        Assert.AreEqual(0, rest.ExitCode, rest.Output);
        AssertSameRun(temp["whole"], temp["down"], $"{family}: 2 ranks then 1");

        // One rank to step 30, then two ranks on to 80.
        first = Run(Train(temp["data"], temp["up"], "--max-steps", "30", "--resume"));
        Assert.AreEqual(0, first.ExitCode, first.Output);
        rest = Run([.. Launcher(family, 2), .. Train(temp["data"], temp["up"], "--max-steps", "80", "--resume")]);
        Assert.AreEqual(0, rest.ExitCode, rest.Output);
        AssertSameRun(temp["whole"], temp["up"], $"{family}: 1 rank then 2");
    }

    /// <summary>
    /// Rank 1 is given data that does not exist (an MPMD launch: one command line per rank) while rank 0
    /// starts training and waits for it in the first all-reduce: the failing rank must end the job.
    /// </summary>
    [TestMethod]
    [DataRow("openmpi")]
    [DataRow("mpich")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void AFailingRankEndsEveryRankNonZero(string family)
    {
        RequireLauncher(family);
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 3000, testCount: 500);
        string[] good = Train(temp["data"], temp["run"], "--epochs", "50");
        string[] bad = Train(temp["missing"], temp["run"], "--epochs", "50");
        string[] launcher = Launcher(family, 1);
        var result = Run([.. launcher, .. good, ":", .. launcher[1..], .. bad], timeoutSeconds: 120);

        Assert.AreNotEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "rank 1 of 2");
        StringAssert.Contains(result.Output, "ending every rank");
        Assert.IsLessThan(60.0, result.Seconds, "the job outlived its failed rank");
        // Whatever rank 0 had written is whole: no half-written temporary file is left.
        if (Directory.Exists(temp["run"]))
            Assert.IsEmpty(Directory.GetFiles(temp["run"], "*.tmp"), string.Join(", ", Directory.GetFiles(temp["run"])));
    }

    /// <summary>
    /// A scheduler's SIGTERM goes to the launcher, which forwards it to every rank: the ranks agree on one
    /// step to stop after (the request travels with the gradients), rank 0 writes the checkpoint once,
    /// and a single process resumes from it.
    /// </summary>
    [TestMethod]
    [DataRow("openmpi")]
    [DataRow("mpich")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void SigtermToTheLauncherStopsEveryRankAtOneStep(string family)
    {
        RequireLauncher(family);
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 3000, testCount: 500);
        string[] command = [.. Launcher(family, 2), .. Train(temp["data"], temp["run"], "--epochs", "100000", "--resume")];
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in command.Skip(1)) info.ArgumentList.Add(a);
        using var launcher = Process.Start(info)!;
        launcher.StandardInput.Close();
        var output = launcher.StandardOutput.ReadToEndAsync();
        var error = launcher.StandardError.ReadToEndAsync();
        string metrics = temp["run/metrics.jsonl"];
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"type\":\"epoch\"")))
        {
            if (launcher.HasExited) Assert.Fail($"the job ended before its first epoch: {output.Result}{error.Result}");
            if (clock.Elapsed.TotalSeconds > 120) { launcher.Kill(entireProcessTree: true); Assert.Fail("no epoch ended within 120 s"); }
            Thread.Sleep(50);
        }
        using (var kill = Process.Start("kill", ["-TERM", launcher.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        if (!launcher.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            launcher.Kill(entireProcessTree: true);
            Assert.Fail("the job did not stop within 60 s of SIGTERM");
        }

        var lines = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var end = lines.Last();
        Assert.AreEqual("end", end.GetProperty("type").GetString(), output.Result + error.Result);
        Assert.IsTrue(end.GetProperty("interrupted").GetBoolean());
        Assert.AreEqual(1, lines.Count(l => l.GetProperty("type").GetString() == "end"), "rank 0 alone writes");
        long stopped = end.GetProperty("step").GetInt64();
        var model = VaeModelFile.Load(temp["run/checkpoint.safetensors"]);
        Assert.AreEqual(stopped.ToString(System.Globalization.CultureInfo.InvariantCulture), model.Metadata["steps"], "the checkpoint is of the step the ranks stopped after");

        var resumed = Run(Train(temp["data"], temp["run"], "--max-steps", (stopped + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), "--resume"));
        Assert.AreEqual(0, resumed.ExitCode, resumed.Output);
        Assert.AreEqual(stopped + 5, LastEpoch(temp["run"]).GetProperty("step").GetInt64());
    }
}
