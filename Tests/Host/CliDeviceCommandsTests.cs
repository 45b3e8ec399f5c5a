using System.Text.Json;
using IlgpuVae.Host.CommandLine;

namespace IlgpuVae.Tests.Host;

/// <summary>The device-facing commands: check and bench on the CPU accelerator.</summary>
[TestClass]
public sealed class CliDeviceCommandsTests
{
    [TestMethod]
    public void CheckPrintsATableAndPassesOnTheCpu()
    {
        var result = CliRunner.Run("check", "--device", "cpu", "--seed", "5");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Out + result.Error);
        StringAssert.Contains(result.Out, "device cpu:");
        StringAssert.Contains(result.Out, "PASS");
        StringAssert.Matches(result.Out, new System.Text.RegularExpressions.Regex(@"\n\d+ passed, 0 failed\n"));
        Assert.IsFalse(result.Out.Contains("FAIL"));
    }

    [TestMethod]
    public void BenchPrintsJsonLinesForEveryGemmShapeAndTraining()
    {
        var result = CliRunner.Run("bench", "--device", "cpu", "--repeats", "1", "--steps", "3", "--batch-size", "32", "--warmup", "0", "--json");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var gemms = lines.Where(l => l.GetProperty("type").GetString() == "gemm").ToArray();
        Assert.AreEqual(11, gemms.Length, "every GEMM of a training step of the default VAE");
        Assert.IsTrue(gemms.Any(g => g.GetProperty("m").GetInt32() == 128 && g.GetProperty("n").GetInt32() == 400 && g.GetProperty("k").GetInt32() == 784));
        foreach (var g in gemms) Assert.IsGreaterThan(0.0, g.GetProperty("gflops").GetDouble());
        var training = lines.Single(l => l.GetProperty("type").GetString() == "training");
        Assert.AreEqual(32, training.GetProperty("batch_size").GetInt32());
        Assert.IsGreaterThan(0.0, training.GetProperty("samples_per_s").GetDouble());
    }

    [TestMethod]
    public void UnavailableDeviceIsExitCode1WithTheReason()
    {
        // A device number past the last CPU device is never present, whatever the machine.
        var result = CliRunner.Run("check", "--device", "cpu:5");
        Assert.AreEqual(ExitCodes.Failure, result.ExitCode);
        StringAssert.Contains(result.Error, "cpu:5");
    }
}
