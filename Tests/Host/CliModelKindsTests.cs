using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;

namespace IlgpuVae.Tests.Host;

/// <summary>
/// The conditional and the denoising VAE and the estimators from the command line, on the real
/// Fashion-MNIST: each trained for the 10 epochs of the default run, then judged as the README reports.
/// </summary>
[TestClass]
public sealed partial class CliModelKindsTests
{
    [TestMethod]
    public void AConditionalModelDrawsEachClassSoThatAClassifierRecognisesIt()
    {
        _ = FashionMnist.Full;
        using var temp = new TempDirectory();
        var train = CliRunner.Run("train", "--model", "conditional", "--beta", "2", "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        string model = Path.Combine(temp["run"], "model.safetensors");
        Assert.AreEqual("conditional", IlgpuVae.Model.SafeTensors.Read(model).Metadata["vae.kind"]);

        var all = CliRunner.Run("sample", "--model", model, "--label", "all", "--out", temp["all.png"], "--fidelity", "100");
        Assert.AreEqual(ExitCodes.Ok, all.ExitCode, all.Error);
        // A row of 8 for each of the 10 classes: 8 x 28 + 9 x 2 pixels wide, 10 x 28 + 11 x 2 high.
        Assert.AreEqual((242, 302), CliRunner.PngSize(temp["all.png"]));
        var mean = MeanLine().Match(all.Out);
        Assert.IsTrue(mean.Success, all.Out);
        double share = double.Parse(mean.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.IsGreaterThanOrEqualTo(80.0, share, $"samples classified as their class, on average over the classes:\n{all.Out}");

        var one = CliRunner.Run("sample", "--model", model, "--label", "7", "--count", "16", "--out", temp["sneakers.png"]);
        Assert.AreEqual(ExitCodes.Ok, one.ExitCode, one.Error);
        StringAssert.Contains(one.Out, "of class 7");
        var bad = CliRunner.Run("sample", "--model", model, "--label", "10");
        Assert.AreEqual(ExitCodes.Usage, bad.ExitCode);
        StringAssert.Contains(bad.Error, "0..9");
        var reconstruct = CliRunner.Run("reconstruct", "--model", model, "--count", "8", "--out", temp["r.png"]);
        Assert.AreEqual(ExitCodes.Ok, reconstruct.ExitCode, reconstruct.Error);
    }

    [TestMethod]
    public void ADenoisingModelGainsFiveDecibelsAndTheReparameterisationIsFarLessNoisy()
    {
        _ = FashionMnist.Full;
        using var temp = new TempDirectory();
        var train = CliRunner.Run("train", "--corrupt", "gaussian:0.3", "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        string model = Path.Combine(temp["run"], "model.safetensors");
        Assert.AreEqual("gaussian:0.3", IlgpuVae.Model.SafeTensors.Read(model).Metadata["corrupt"]);

        var denoise = CliRunner.Run("denoise", "--model", model, "--out", temp["d.png"], "--json", temp["d.json"]);
        Assert.AreEqual(ExitCodes.Ok, denoise.ExitCode, denoise.Error);
        using (var json = JsonDocument.Parse(File.ReadAllText(temp["d.json"])))
        {
            double noisy = json.RootElement.GetProperty("psnr_noisy_db").GetDouble(), denoised = json.RootElement.GetProperty("psnr_denoised_db").GetDouble();
            Assert.AreEqual(10000, json.RootElement.GetProperty("images").GetInt32());
            Assert.IsGreaterThanOrEqualTo(noisy + 5, denoised, $"denoised {denoised} dB against the corrupted input's {noisy} dB");
        }
        var (ok, output) = CliRunner.PngCheck(temp["d.png"]);
        Assert.IsTrue(ok, output);

        var gradvar = CliRunner.Run("gradvar", "--model", model, "--samples", "40", "--images", "50", "--json", temp["g.json"]);
        Assert.AreEqual(ExitCodes.Ok, gradvar.ExitCode, gradvar.Error);
        using var g = JsonDocument.Parse(File.ReadAllText(temp["g.json"]));
        foreach (string comparison in new[] { "score_vs_reparam", "score_baseline_vs_reparam" })
            foreach (var group in g.RootElement.GetProperty(comparison).GetProperty("groups").EnumerateArray())
                Assert.IsGreaterThan(100.0, group.GetProperty("variance_ratio").GetDouble(), $"{comparison} {group.GetProperty("name")}");
    }

    [TestMethod]
    public void TheScoreFunctionEstimatorTrainsAndIsRecorded()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 100);
        var train = CliRunner.Run("train", "--estimator", "score-baseline", "--max-steps", "20", "--hidden", "32", "--latent", "4",
            "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        Assert.AreEqual("score-baseline", IlgpuVae.Model.SafeTensors.Read(Path.Combine(temp["run"], "model.safetensors")).Metadata["estimator"]);
        StringAssert.Contains(File.ReadAllText(Path.Combine(temp["run"], "metrics.jsonl")), "\"estimator\":\"score-baseline\"");
        var resumed = CliRunner.Run("train", "--run-dir", temp["run"], "--resume", "--estimator", "reparam", "--data", temp["data"]);
        Assert.AreEqual(ExitCodes.Usage, resumed.ExitCode);
        StringAssert.Contains(resumed.Error, "--estimator");

        // The analyses run on the ILGPU kernels as on the CPU backend.
        string model = Path.Combine(temp["run"], "model.safetensors");
        var gradvar = CliRunner.Run("gradvar", "--model", model, "--data", temp["data"], "--samples", "5", "--images", "10", "--device", "ilgpu-cpu");
        Assert.AreEqual(ExitCodes.Ok, gradvar.ExitCode, gradvar.Error);
        StringAssert.Contains(gradvar.Out, "fc22.bias");
        var denoise = CliRunner.Run("denoise", "--model", model, "--data", temp["data"], "--corrupt", "mask:0.3", "--count", "40",
            "--out", temp["d.png"], "--device", "ilgpu-cpu");
        Assert.AreEqual(ExitCodes.Ok, denoise.ExitCode, denoise.Error);
        StringAssert.Contains(denoise.Out, "mask:0.3 on 40 test images");
    }

    [TestMethod]
    public void AHierarchicalModelTrainsSamplesReconstructsAndReportsBothKlTerms()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 100);
        var train = CliRunner.Run("train", "--model", "hierarchical", "--hidden", "32", "--latent", "8", "--top-hidden", "16", "--top-latent", "4",
            "--epochs", "2", "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        string model = Path.Combine(temp["run"], "model.safetensors");
        var metadata = IlgpuVae.Model.SafeTensors.Read(model).Metadata;
        Assert.AreEqual("hierarchical", metadata["vae.kind"]);
        Assert.AreEqual("4", metadata["vae.top_latent"]);
        var epochLine = File.ReadLines(Path.Combine(temp["run"], "metrics.jsonl")).Last(l => l.Contains("\"type\":\"epoch\""));
        using (var epoch = JsonDocument.Parse(epochLine))
        {
            var kl = epoch.RootElement.GetProperty("test_kl");
            Assert.IsGreaterThan(0.0, kl.GetProperty("kl_z1").GetDouble());
            Assert.IsGreaterThanOrEqualTo(0.0, kl.GetProperty("kl_z2").GetDouble());
        }
        Assert.AreEqual(ExitCodes.Ok, CliRunner.Run("sample", "--model", model, "--out", temp["s.png"]).ExitCode);
        Assert.AreEqual(ExitCodes.Ok, CliRunner.Run("reconstruct", "--model", model, "--data", temp["data"], "--out", temp["r.png"]).ExitCode);
        var resumed = CliRunner.Run("train", "--run-dir", temp["run"], "--resume", "--top-latent", "5", "--data", temp["data"]);
        Assert.AreEqual(ExitCodes.Usage, resumed.ExitCode);
        StringAssert.Contains(resumed.Error, "--top-latent");
    }

    [TestMethod]
    public void AGanTrainsAndSamplesAndItsSamplesAreClassified()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 100);
        var train = CliRunner.Run("train", "--model", "gan", "--hidden", "64", "--latent", "8", "--d-steps", "2", "--gan-loss", "minimax",
            "--epochs", "2", "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        string model = Path.Combine(temp["run"], "model.safetensors");
        Assert.AreEqual("gan", IlgpuVae.Model.SafeTensors.Read(model).Metadata["vae.kind"]);
        Assert.IsTrue(File.Exists(Path.Combine(temp["run"], "samples.png")));
        string metrics = File.ReadAllText(Path.Combine(temp["run"], "metrics.jsonl"));
        StringAssert.Contains(metrics, "\"d_accuracy_real\"");
        StringAssert.Contains(metrics, "\"gan_loss\":\"minimax\"");
        var sample = CliRunner.Run("sample", "--model", model, "--count", "100", "--out", temp["s.png"], "--classify", "--data", temp["data"]);
        Assert.AreEqual(ExitCodes.Ok, sample.ExitCode, sample.Error);
        StringAssert.Contains(sample.Out, "class entropy");
        var reconstruct = CliRunner.Run("reconstruct", "--model", model, "--data", temp["data"]);
        Assert.AreEqual(ExitCodes.Usage, reconstruct.ExitCode);
        StringAssert.Contains(reconstruct.Error, "no encoder");
        // A finished run asked again is complete: its samples are its only picture, so nothing is rewritten.
        var again = CliRunner.Run("train", "--run-dir", temp["run"], "--resume", "--data", temp["data"]);
        Assert.AreEqual(ExitCodes.Ok, again.ExitCode, again.Error);
        StringAssert.DoesNotMatch(again.Out, new Regex("rewrote"));
    }

    [TestMethod]
    public void AConvModelTrainsSamplesAndReconstructsAndRefusesImagesItsStridesDoNotFit()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 100);
        var train = CliRunner.Run("train", "--arch", "conv", "--hidden", "4,8", "--latent", "4", "--epochs", "2",
            "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        string model = Path.Combine(temp["run"], "model.safetensors");
        Assert.AreEqual("conv", IlgpuVae.Model.SafeTensors.Read(model).Metadata["vae.kind"]);
        Assert.AreEqual(ExitCodes.Ok, CliRunner.Run("sample", "--model", model, "--out", temp["s.png"]).ExitCode);
        Assert.AreEqual(ExitCodes.Ok, CliRunner.Run("reconstruct", "--model", model, "--data", temp["data"], "--out", temp["r.png"]).ExitCode);
        // 28 halves twice (14, 7) but not three times.
        var deep = CliRunner.Run("train", "--arch", "conv", "--hidden", "4,8,16", "--data", temp["data"], "--run-dir", temp["deep"]);
        Assert.AreEqual(ExitCodes.Usage, deep.ExitCode, deep.Error);
        StringAssert.Contains(deep.Error, "divisible by 8");
        StringAssert.Contains(deep.Error, "28x28");
    }

    [TestMethod]
    [DataRow("train", "--model", "ladder", "mlp, conditional, hierarchical")]
    [DataRow("train", "--d-steps", "3", "--model gan")]
    [DataRow("train", "--top-latent", "3", "--model hierarchical")]
    [DataRow("train", "--arch", "resnet", "mlp, conv")]
    [DataRow("train", "--free-bits", "-1", "--free-bits")]
    [DataRow("train", "--classes", "4", "--model conditional")]
    [DataRow("train", "--corrupt", "blur:2", "blur:2")]
    [DataRow("train", "--estimator", "magic", "score-baseline")]
    public void BadModelOptionsAreUsageErrorsSayingWhatIsExpected(string command, string option, string value, string expected)
    {
        var result = CliRunner.Run(command, option, value);
        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, expected);
    }

    [TestMethod]
    public void OptionsOfOtherModelsAreRefusedForAPlainModel()
    {
        using var temp = new TempDirectory();
        string model = ProgramTools.TinyModel(temp["m.safetensors"]);
        var label = CliRunner.Run("sample", "--model", model, "--label", "3");
        Assert.AreEqual(ExitCodes.Usage, label.ExitCode);
        StringAssert.Contains(label.Error, "conditional");
        var denoise = CliRunner.Run("denoise", "--model", model);
        Assert.AreEqual(ExitCodes.Usage, denoise.ExitCode);
        StringAssert.Contains(denoise.Error, "--corrupt");
    }

    [GeneratedRegex(@"^\s*mean\s+([\d.]+) %", RegexOptions.Multiline)]
    private static partial Regex MeanLine();
}
