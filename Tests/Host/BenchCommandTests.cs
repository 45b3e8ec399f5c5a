using System.Text.Json;
using IlgpuVae.Host.CommandLine;

namespace IlgpuVae.Tests.Host;

/// <summary>`ilgpu-vae bench`: the training line's warm-up and timed blocks, in JSON and as text, and --warmup.</summary>
[TestClass]
public sealed class BenchCommandTests
{
    [TestMethod]
    public void TrainingJsonKeepsItsKeysAndAddsTheWarmupAndTheBlocks()
    {
        var result = CliRunner.Run("bench", "--device", "cpu", "--repeats", "1", "--steps", "8", "--batch-size", "16", "--warmup", "0", "--json");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        var training = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("type").GetString() == "training");
        foreach (string key in new[] { "device", "device_name", "model" }) Assert.IsFalse(string.IsNullOrEmpty(training.GetProperty(key).GetString()), key);
        Assert.AreEqual("cpu", training.GetProperty("device").GetString());
        Assert.AreEqual(16, training.GetProperty("batch_size").GetInt32());
        Assert.AreEqual(8, training.GetProperty("steps").GetInt32(), "steps: the timed steps, warm-up not counted");
        Assert.AreEqual(5, training.GetProperty("blocks").GetInt32());
        Assert.AreEqual(0, training.GetProperty("launches_per_step").GetInt64(), "the CPU accelerator launches no kernels");
        double rate = training.GetProperty("samples_per_s").GetDouble();
        Assert.IsGreaterThan(0.0, rate);
        Assert.IsLessThanOrEqualTo(rate, training.GetProperty("samples_per_s_min").GetDouble());
        Assert.IsGreaterThanOrEqualTo(rate, training.GetProperty("samples_per_s_max").GetDouble());
        Assert.IsGreaterThanOrEqualTo(50, training.GetProperty("warmup_steps").GetInt32(), "at least 50 warm-up steps");
        Assert.IsGreaterThan(0.0, training.GetProperty("warmup_seconds").GetDouble());
        Assert.IsTrue(training.GetProperty("warmup_settled").ValueKind is JsonValueKind.True or JsonValueKind.False);
    }

    [TestMethod]
    public void TextOutputNamesTheBlocksAndTheWarmup()
    {
        var result = CliRunner.Run("bench", "--device", "cpu", "--repeats", "1", "--steps", "4", "--batch-size", "16", "--warmup", "0");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        StringAssert.Matches(result.Out, new System.Text.RegularExpressions.Regex(
            @"\ntraining: \d+ samples/s \(784-400-20-400-784, batch 16, 4 steps, median of 4 blocks, \d+ to \d+\)\n  after \d+ warm-up steps in \d+\.\d s"));
    }

    [TestMethod]
    [DataRow("-1")]
    [DataRow("601")]
    [DataRow("soon")]
    public void WarmupOutOfRangeIsAUsageError(string value)
    {
        var result = CliRunner.Run("bench", "--device", "cpu", "--warmup", value);
        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Out + result.Error);
        StringAssert.Contains(result.Error, "--warmup");
        StringAssert.Contains(result.Error, value);
    }

    [TestMethod]
    public void HelpSaysWhatIsTimed()
    {
        var help = CliRunner.Run("bench", "--help");
        Assert.AreEqual(ExitCodes.Ok, help.ExitCode);
        StringAssert.Contains(help.Out, "--warmup S");
        StringAssert.Contains(help.Out, "median");
        StringAssert.Contains(help.Out, "timed training steps (after the warm-up)");
    }

    [TestMethod]
    public void OnAKernelBackendTheLaunchesOfAStepAreCounted()
    {
        // ilgpu-cpu runs the ILGPU kernels on every machine; cuda and opencl reach the same accelerator class.
        var result = CliRunner.Run("bench", "--device", "ilgpu-cpu", "--repeats", "1", "--steps", "3", "--batch-size", "16", "--warmup", "0");
        if (result.ExitCode == ExitCodes.Failure && result.Error.Contains("placeholder accelerator", StringComparison.Ordinal))
            Assert.Inconclusive("this build has the placeholder ILGPU accelerator, without kernels");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        // The default model's step: a few dozen launches (StepCostTests bounds it too).
        var match = System.Text.RegularExpressions.Regex.Match(result.Out, @"\n  (\d+) kernel launches a step\n");
        Assert.IsTrue(match.Success, result.Out);
        Assert.IsTrue(int.Parse(match.Groups[1].Value) is > 10 and < 30, match.Value);
    }
}
