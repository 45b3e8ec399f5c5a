using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// A run that diverges (a learning rate far too large, a vanishing Gaussian sigma) stops with exit 1
/// and a message naming the step and a smaller --lr, marks the metrics, and never writes a NaN or an
/// infinity to any file; the commands that read a model refuse one that holds them.
/// </summary>
[TestClass]
public sealed class CliDivergenceTests
{
    private static string[] Train(string data, string run, params string[] more) =>
        ["train", "--hidden", "64", "--latent", "8", "--batch-size", "64", "--data", data, "--run-dir", run, .. more];

    /// <summary>Every tensor of every safetensors file under dir (temporary files included) is finite.</summary>
    internal static void AssertEveryTensorFinite(string dir)
    {
        foreach (string path in Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(p => p.Contains(".safetensors")))
            foreach (var tensor in SafeTensors.Read(path).Tensors)
                Assert.AreEqual(-1, NonFiniteValues.IndexOf(tensor.Data), $"{path}: tensor {tensor.Name}");
    }

    private static JsonElement EndLine(string run) => File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement).Last(l => l.GetProperty("type").GetString() == "end");

    [TestMethod]
    [DataRow("--lr", "1e10")]
    [DataRow("--likelihood", "gaussian", "--sigma", "1e-30")]
    public void ADivergingRunExits1NamingTheStepAndWritesNoNonFiniteParameter(params string[] diverging)
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 200);

        var result = CliRunner.Run(Train(temp["data"], temp["run"], [.. diverging, "--max-steps", "30"]));
        Assert.AreEqual(ExitCodes.Failure, result.ExitCode, result.Out + result.Error);
        StringAssert.Contains(result.Error, "diverged at step");
        StringAssert.Contains(result.Error, "smaller --lr");
        Assert.IsFalse(File.Exists(temp["run/model.safetensors"]), "no model of a diverged state");
        Assert.IsFalse(File.Exists(temp["run/samples.png"]));
        AssertEveryTensorFinite(temp["run"]);
        var end = EndLine(temp["run"]);
        Assert.IsTrue(end.GetProperty("diverged").GetBoolean());
        Assert.IsGreaterThanOrEqualTo(1L, end.GetProperty("diverged_at_step").GetInt64());
    }

    [TestMethod]
    public void TheLastFiniteCheckpointOfADivergingRunIsKept()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 200);

        var result = CliRunner.Run(Train(temp["data"], temp["run"], "--lr", "1e10", "--max-steps", "30", "--checkpoint-every", "1"));
        Assert.AreEqual(ExitCodes.Failure, result.ExitCode, result.Out + result.Error);
        AssertEveryTensorFinite(temp["run"]);
        long diverged = EndLine(temp["run"]).GetProperty("diverged_at_step").GetInt64();
        var checkpoint = CheckpointFile.Load(temp["run/checkpoint.safetensors"]);
        Assert.IsLessThan(diverged, checkpoint.Position.Step, "the checkpoint is of a step before the divergence");
        StringAssert.Contains(result.Error, $"still holds the finite state of step {checkpoint.Position.Step}");
        Assert.AreEqual(0, Directory.GetFiles(temp["run"], "*.tmp").Length);
    }

    [TestMethod]
    public void SampleReconstructAndResumeRefuseNonFiniteParametersNamingFileAndTensor()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        var config = new VaeConfig { Hidden = [16], Latent = 3 };
        var layout = new ParameterLayout(config);
        float[] parameters = ParameterInitializer.Create(layout, 1);
        parameters[layout["fc3.bias"].Offset + 2] = float.NaN;
        string model = temp["nan.safetensors"];
        VaeModelFile.Save(model, config, parameters);

        var sample = CliRunner.Run("sample", "--model", model, "--out", temp["s.png"]);
        Assert.AreEqual(ExitCodes.DataError, sample.ExitCode, sample.Error);
        StringAssert.Contains(sample.Error, model);
        StringAssert.Contains(sample.Error, "'fc3.bias'");
        Assert.IsFalse(File.Exists(temp["s.png"]));

        var reconstruct = CliRunner.Run("reconstruct", "--model", model, "--data", temp["data"], "--out", temp["r.png"]);
        Assert.AreEqual(ExitCodes.DataError, reconstruct.ExitCode, reconstruct.Error);
        StringAssert.Contains(reconstruct.Error, "'fc3.bias'");
        Assert.IsFalse(File.Exists(temp["r.png"]));

        // A checkpoint holding an infinity (written by another tool or an older version) is not resumed.
        var first = CliRunner.Run("train", "--hidden", "16", "--latent", "3", "--data", temp["data"], "--run-dir", temp["run"], "--max-steps", "2");
        Assert.AreEqual(ExitCodes.Ok, first.ExitCode, first.Error);
        string path = temp["run/checkpoint.safetensors"];
        var checkpoint = CheckpointFile.Load(path);
        checkpoint.Parameters[layout["fc4.weight"].Offset] = float.PositiveInfinity;
        CheckpointFile.Save(path, checkpoint);
        var resumed = CliRunner.Run("train", "--run-dir", temp["run"], "--resume", "--max-steps", "4");
        Assert.AreEqual(ExitCodes.DataError, resumed.ExitCode, resumed.Error);
        StringAssert.Contains(resumed.Error, "checkpoint.safetensors");
        StringAssert.Contains(resumed.Error, "'fc4.weight'");
    }
}
