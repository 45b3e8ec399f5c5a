namespace IlgpuVae.Tests.Formats.Fuzzing;

/// <summary>
/// The readers of untrusted files under a bounded, seeded mutation fuzzer (a few seconds in all),
/// and every input the fuzzer ever found failing, kept under Formats/FuzzRegressions/ and replayed.
/// A failure writes its inputs to the test results; copy them into FuzzRegressions/ as
/// TARGET-what-it-does.bin (TARGET is idx-images, idx-labels, safetensors, model, checkpoint or npy).
/// A longer campaign: IVAE_FUZZ_SCALE=100 (iterations times 100) and IVAE_FUZZ_SEED=N (another sequence).
/// </summary>
[TestClass]
public sealed class ReaderFuzzTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("IVAE_FUZZ_SCALE"), out int scale) && scale > 0 ? scale : 1;

    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("IVAE_FUZZ_SEED"), out int seed) ? seed : 20261202;

    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60) * Scale;

    [TestMethod]
    [DataRow("idx-images", 3000)]
    [DataRow("idx-labels", 1500)]
    [DataRow("safetensors", 3000)]
    [DataRow("model", 1500)]
    [DataRow("checkpoint", 1500)]
    [DataRow("npy", 3000)]
    public void MutatedFilesFailOnlyAsDocumented(string name, int iterations)
    {
        var target = FuzzTargets.Named(name);
        string save = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), "fuzz-failures");
        // On its own thread, so that an input that loops forever fails the test instead of hanging the run.
        int inputs = iterations * Scale;
        var run = Task.Factory.StartNew(() => FuzzHarness.Run(target, inputs, Seed, save), TaskCreationOptions.LongRunning);
        Assert.IsTrue(run.Wait(RunLimit), $"{name}: {inputs} inputs took more than {RunLimit.TotalSeconds} s (an input that hangs?)");
        var failures = run.Result;
        Assert.IsEmpty(failures, string.Join("\n\n", failures));
    }

    [TestMethod]
    public void EveryKeptFailingInputIsNowReadAsDocumented()
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "Formats", "FuzzRegressions");
        string[] files = Directory.GetFiles(directory, "*.bin");
        Assert.IsNotEmpty(files, $"no regression inputs in {directory}");
        var problems = new List<string>();
        foreach (string file in files.Order(StringComparer.Ordinal))
        {
            string fileName = Path.GetFileName(file);
            var target = FuzzTargets.All.Where(t => fileName.StartsWith(t.Name + "-", StringComparison.Ordinal)).MaxBy(t => t.Name.Length);
            if (target is null) { problems.Add($"{fileName}: the name starts with no target"); continue; }
            var read = Task.Run(() => FuzzHarness.Execute(target, File.ReadAllBytes(file)));
            if (!read.Wait(TimeSpan.FromSeconds(10))) problems.Add($"{fileName}: hangs");
            else if (read.Result is { } problem) problems.Add($"{fileName}: {problem}");
        }
        Assert.IsEmpty(problems, string.Join("\n", problems));
    }

    [TestMethod]
    public void TheMutatorIsDeterministic()
    {
        var target = FuzzTargets.Named("safetensors");
        byte[] seed = target.Seeds()[1];
        var a = new ByteMutator(5);
        var b = new ByteMutator(5);
        for (int i = 0; i < 50; i++)
            CollectionAssert.AreEqual(a.Mutate(seed, target.Fields), b.Mutate(seed, target.Fields), $"mutation {i}");
    }
}
