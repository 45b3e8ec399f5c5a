using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// The command line end to end, in-process, on a subset of the real Fashion-MNIST written as IDX
/// files: training writes every output, the outputs are valid, and the model serves sample and
/// reconstruct.
/// </summary>
[TestClass]
public sealed class CliEndToEndTests
{
    [TestMethod]
    public void TrainWritesValidOutputsThatSampleAndReconstructUse()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 500);
        string run = temp["run"];

        var train = CliRunner.Run("train", "--max-steps", "30", "--epochs", "1", "--hidden", "64", "--latent", "8", "--batch-size", "64",
            "--data", temp["data"], "--run-dir", run, "--seed", "3");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        StringAssert.Contains(train.Out, "epoch 1 step 30 train_loss");
        Assert.IsFalse(train.Out.Contains('\r'), "no progress bar when output is not a terminal");

        foreach (string file in new[] { "metrics.jsonl", "model.safetensors", "samples.png", "reconstructions.png" })
            Assert.IsTrue(File.Exists(Path.Combine(run, file)), file);
        Assert.AreEqual(0, Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories).Length + Directory.GetFiles(run, ".*").Length, "no temporary files left");
        foreach (string png in new[] { "samples.png", "reconstructions.png" })
        {
            var (ok, output) = CliRunner.PngCheck(Path.Combine(run, png));
            Assert.IsTrue(ok, output);
        }
        // 8x8 tiles of 28 pixels with 2-pixel gaps; reconstructions are 8 rows of 8 pairs.
        Assert.AreEqual((8 * 28 + 9 * 2, 8 * 28 + 9 * 2), CliRunner.PngSize(Path.Combine(run, "samples.png")));
        Assert.AreEqual((16 * 28 + 17 * 2, 8 * 28 + 9 * 2), CliRunner.PngSize(Path.Combine(run, "reconstructions.png")));

        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.AreEqual("run", lines[0].GetProperty("type").GetString());
        Assert.AreEqual("cpu", lines[0].GetProperty("device").GetString());
        Assert.AreEqual(64, lines[0].GetProperty("config").GetProperty("hidden")[0].GetInt32());
        var epoch = lines.Single(l => l.GetProperty("type").GetString() == "epoch");
        Assert.AreEqual(1, epoch.GetProperty("epoch").GetInt32());
        Assert.AreEqual(30, epoch.GetProperty("step").GetInt32());
        foreach (string field in new[] { "train_loss", "test_loss", "epoch_seconds", "samples_per_s" })
            Assert.IsGreaterThan(0.0, epoch.GetProperty(field).GetDouble(), field);
        Assert.IsLessThan(560.0, epoch.GetProperty("test_loss").GetDouble(), "30 steps lower the loss below the untrained ~545+");
        Assert.AreEqual("end", lines[^1].GetProperty("type").GetString());

        var model = VaeModelFile.Load(Path.Combine(run, "model.safetensors"));
        Assert.AreEqual(new VaeConfig { Hidden = [64], Latent = 8 }, model.Config);
        Assert.AreEqual("30", model.Metadata["steps"]);

        string samples = temp["s.png"];
        var sample = CliRunner.Run("sample", "--model", Path.Combine(run, "model.safetensors"), "--count", "16", "--out", samples, "--seed", "3");
        Assert.AreEqual(ExitCodes.Ok, sample.ExitCode, sample.Error);
        Assert.IsTrue(CliRunner.PngCheck(samples).Ok);
        Assert.AreEqual((8 * 28 + 9 * 2, 2 * 28 + 3 * 2), CliRunner.PngSize(samples));
        // The run's samples.png drew 64 images from the same seed: its first two rows are these 16.
        var again = CliRunner.Run("sample", "--model", Path.Combine(run, "model.safetensors"), "--count", "64", "--out", temp["s64.png"], "--seed", "3");
        Assert.AreEqual(ExitCodes.Ok, again.ExitCode, again.Error);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(run, "samples.png")), File.ReadAllBytes(temp["s64.png"]));

        string recon = temp["r.png"];
        var reconstruct = CliRunner.Run("reconstruct", "--model", Path.Combine(run, "model.safetensors"), "--data", temp["data"], "--count", "12", "--out", recon);
        Assert.AreEqual(ExitCodes.Ok, reconstruct.ExitCode, reconstruct.Error);
        Assert.IsTrue(CliRunner.PngCheck(recon).Ok);
        Assert.AreEqual((16 * 28 + 17 * 2, 2 * 28 + 3 * 2), CliRunner.PngSize(recon));
    }

    [TestMethod]
    public void InterruptedTrainingExits130AndStillWritesOutputs()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var result = CliRunner.Run(cancel.Token, "train", "--hidden", "32", "--latent", "4", "--data", temp["data"], "--run-dir", temp["run"]);
        Assert.AreEqual(ExitCodes.Interrupted, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "interrupted");
        Assert.IsTrue(File.Exists(temp["run/model.safetensors"]));
        Assert.IsTrue(CliRunner.PngCheck(temp["run/samples.png"]).Ok);
        var epoch = File.ReadAllLines(temp["run/metrics.jsonl"]).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("type").GetString() == "epoch");
        Assert.IsTrue(epoch.GetProperty("interrupted").GetBoolean());
        Assert.AreEqual(JsonValueKind.Null, epoch.GetProperty("test_loss").ValueKind);
    }

    [TestMethod]
    public void MissingDataIsExitCode3NamingTheDirectory()
    {
        using var temp = new TempDirectory();
        var result = CliRunner.Run("train", "--data", temp["nowhere"], "--run-dir", temp["run"]);
        Assert.AreEqual(ExitCodes.DataError, result.ExitCode);
        StringAssert.Contains(result.Error, temp["nowhere"]);
        StringAssert.Contains(result.Error, "dataset-fashion-mnist");
    }

    [TestMethod]
    public void MissingOrMalformedModelIsExitCode3()
    {
        using var temp = new TempDirectory();
        var missing = CliRunner.Run("sample", "--model", temp["none.safetensors"], "--out", temp["s.png"]);
        Assert.AreEqual(ExitCodes.DataError, missing.ExitCode);
        StringAssert.Contains(missing.Error, "none.safetensors");

        File.WriteAllBytes(temp["bad.safetensors"], [1, 2, 3]);
        var bad = CliRunner.Run("sample", "--model", temp["bad.safetensors"], "--out", temp["s.png"]);
        Assert.AreEqual(ExitCodes.DataError, bad.ExitCode);
        StringAssert.Contains(bad.Error, "bad.safetensors");
        Assert.IsFalse(File.Exists(temp["s.png"]));
    }

    [TestMethod]
    public void DevicesListsEveryBackend()
    {
        var result = CliRunner.Run("devices");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        StringAssert.Contains(result.Out, "CPU:");
        StringAssert.Contains(result.Out, "OpenCL:");
        StringAssert.Contains(result.Out, "CUDA:");
        StringAssert.Contains(result.Out, "  cpu ");
    }
}
