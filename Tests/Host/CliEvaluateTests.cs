using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Tests.Training;

namespace IlgpuVae.Tests.Host;

/// <summary>`ilgpu-vae evaluate` end to end: exit codes, the table, the JSON, and the estimate's behaviour on a trained model.</summary>
[TestClass]
public sealed class CliEvaluateTests
{
    [TestMethod]
    public void HelpListsTheOptions()
    {
        var help = CliRunner.Run("evaluate", "--help");
        Assert.AreEqual(ExitCodes.Ok, help.ExitCode);
        foreach (string option in new[] { "--model", "--data", "--k", "--images", "--batch", "--device", "--seed", "--json" })
            StringAssert.Contains(help.Out, option);
        StringAssert.Contains(CliRunner.Run("--help").Out, "evaluate");
    }

    [TestMethod]
    public void MissingModelIsADataError()
    {
        using var temp = new TempDirectory();
        var result = CliRunner.Run("evaluate", "--model", temp["none.safetensors"]);
        Assert.AreEqual(ExitCodes.DataError, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "none.safetensors");
    }

    [TestMethod]
    [DataRow("--k", "0")]
    [DataRow("--k", "many")]
    [DataRow("--images", "-3")]
    [DataRow("--batch", "0")]
    public void BadNumbersAreUsageErrorsNamingTheOption(string option, string value)
    {
        using var temp = new TempDirectory();
        var result = CliRunner.Run("evaluate", "--model", temp["none.safetensors"], option, value);
        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, option);
    }

    [TestMethod]
    public void OnATrainedModelTheEstimateFallsWithKAndLiesBelowTheElbo()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 2000, testCount: 60);
        var train = CliRunner.Run("train", "--max-steps", "120", "--epochs", "4", "--hidden", "64", "--latent", "8", "--batch-size", "64",
            "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);

        string json = temp["eval/result.json"];
        var result = CliRunner.Run("evaluate", "--model", Path.Combine(temp["run"], "model.safetensors"), "--data", temp["data"],
            "--k", "200", "--batch", "150", "--json", json);
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        StringAssert.Contains(result.Out, "-log p(x), K = 200");
        StringAssert.Contains(result.Out, "test images as intensities");

        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var root = document.RootElement;
        Assert.AreEqual(60, root.GetProperty("images").GetInt32());
        Assert.AreEqual(200, root.GetProperty("k").GetInt32());
        Assert.IsFalse(root.GetProperty("binarized").GetBoolean());
        Assert.AreEqual("bernoulli", root.GetProperty("likelihood").GetString());
        var estimates = root.GetProperty("negative_log_likelihood").EnumerateArray()
            .Select(e => (K: e.GetProperty("k").GetInt32(), Mean: e.GetProperty("mean").GetDouble(), Error: e.GetProperty("standard_error").GetDouble()))
            .ToArray();
        CollectionAssert.AreEqual(new[] { 1, 10, 100, 200 }, estimates.Select(e => e.K).ToArray());
        for (int i = 1; i < estimates.Length; i++)
            Assert.IsLessThanOrEqualTo(estimates[i - 1].Mean + 1e-6, estimates[i].Mean, $"-log p(x) with K={estimates[i].K} is above K={estimates[i - 1].K}");
        double elbo = root.GetProperty("negative_elbo_mean_over_k").GetProperty("mean").GetDouble();
        double elboOne = root.GetProperty("negative_elbo_one_sample").GetProperty("mean").GetDouble();
        Assert.IsLessThan(elbo, estimates[^1].Mean, "-log p(x) lies below the negative ELBO");
        Assert.IsLessThan(estimates[0].Mean - 0.5, estimates[^1].Mean, "200 samples tighten the bound of one sample");
        Assert.IsTrue(double.IsFinite(elboOne) && estimates.All(e => e.Error > 0 && double.IsFinite(e.Error)), "finite means and errors");
    }

    [TestMethod]
    public void ABinarisedModelIsScoredOnBinarisedImages()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 12);
        var train = CliRunner.Run("train", "--max-steps", "5", "--hidden", "16", "--latent", "2", "--binarize",
            "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        var result = CliRunner.Run("evaluate", "--model", Path.Combine(temp["run"], "model.safetensors"), "--data", temp["data"],
            "--k", "20", "--images", "5", "--json", temp["e.json"]);
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        StringAssert.Contains(result.Out, "binarised");
        using var document = JsonDocument.Parse(File.ReadAllText(temp["e.json"]));
        Assert.IsTrue(document.RootElement.GetProperty("binarized").GetBoolean());
        Assert.AreEqual(5, document.RootElement.GetProperty("images").GetInt32());
    }
}
