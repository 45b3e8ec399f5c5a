using IlgpuVae.Host;
using IlgpuVae.Host.CommandLine;

namespace IlgpuVae.Tests.Host;

/// <summary>Usage errors, help and the option parser: nothing here touches data or a device.</summary>
[TestClass]
public sealed class CliUsageTests
{
    [TestMethod]
    [DataRow("--epochs", "train --epochs zero", "zero")]
    [DataRow("--epochs", "train --epochs 0", ">= 1")]
    [DataRow("--bogus", "train --bogus 3", "unknown option")]
    [DataRow("--epoch", "train --epoch 3", "--epochs")]
    [DataRow("--likelihood", "train --likelihood poisson", "bernoulli")]
    [DataRow("--hidden", "train --hidden 400,,3", "512,256")]
    [DataRow("--lr", "train --lr -1", "> 0")]
    [DataRow("--sigma", "train --sigma nan", "> 0")]
    [DataRow("--device", "train --device tpu", "cuda")]
    [DataRow("--max-steps", "train --max-steps", "needs a value")]
    [DataRow("--binarize", "train --binarize=yes", "flag")]
    [DataRow("--seed", "train --seed 1 --seed 2", "twice")]
    [DataRow("--model", "sample --count 4", "needs option")]
    [DataRow("--split", "reconstruct --model m --split validation", "test")]
    [DataRow("stray", "train stray", "unexpected argument")]
    public void UsageErrorsExitWith2AndNameTheOption(string option, string commandLine, string expected)
    {
        var result = CliRunner.Run(commandLine.Split(' '));
        Assert.AreEqual(ExitCodes.Usage, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, option);
        StringAssert.Contains(result.Error, expected);
        Assert.AreEqual("", result.Out);
    }

    [TestMethod]
    public void UnknownCommandAndNoArgumentsAreUsageErrors()
    {
        var unknown = CliRunner.Run("frobnicate");
        Assert.AreEqual(ExitCodes.Usage, unknown.ExitCode);
        StringAssert.Contains(unknown.Error, "frobnicate");
        var none = CliRunner.Run();
        Assert.AreEqual(ExitCodes.Usage, none.ExitCode);
        StringAssert.Contains(none.Error, "usage: ilgpu-vae");
    }

    [TestMethod]
    public void HelpListsCommandsAndExitCodes()
    {
        var help = CliRunner.Run("--help");
        Assert.AreEqual(ExitCodes.Ok, help.ExitCode);
        foreach (var command in Cli.Commands) StringAssert.Contains(help.Out, "  " + command.Name);
        foreach (string code in new[] { "0 ", "1 ", "2 ", "3 ", "130" }) StringAssert.Contains(help.Out, "  " + code);
        // Every device backend, and what each one is, so no one reads of a backend that is gone.
        foreach (string device in new[] { "cpu", "cuda[:N]", "opencl[:N]", "ilgpu-cpu" }) StringAssert.Contains(help.Out, "\n  " + device + " ");
        StringAssert.Contains(help.Out, "OpenCL 2.0+, or 3.0 with generic address space");
    }

    [TestMethod]
    public void EveryCommandHasHelpListingEachOption()
    {
        foreach (var command in Cli.Commands)
        {
            var help = CliRunner.Run(command.Name, "--help");
            Assert.AreEqual(ExitCodes.Ok, help.ExitCode, command.Name);
            StringAssert.Contains(help.Out, $"usage: ilgpu-vae {command.Name}");
            foreach (var option in command.Options) StringAssert.Contains(help.Out, option.Synopsis, $"{command.Name} {option.Name}");
        }
        var train = CliRunner.Run("help", "train");
        foreach (string text in new[] { "--epochs N", "(default: 10)", "--batch-size N", "(default: 128)", "--likelihood L", "--device D", "exit codes" })
            StringAssert.Contains(train.Out, text);
    }

    [TestMethod]
    public void TrainOptionsMapToSettings()
    {
        var command = new IlgpuVae.Host.Commands.TrainCommand();
        var parsed = ParsedOptions.Parse("train", command.Options,
            ["--hidden=512,256", "--latent", "16", "--beta", "0.5", "--likelihood", "Gaussian", "--sigma", "0.2", "--lr", "3e-4",
             "--adamw", "--weight-decay", "0.01", "--batch-size", "64", "--max-steps", "900", "--seed", "42", "--binarize", "--eval-batch", "500"]);
        var (model, training) = IlgpuVae.Host.Commands.TrainCommand.ParseSettings(parsed);
        CollectionAssert.AreEqual(new[] { 512, 256 }, model.Hidden.ToArray());
        Assert.AreEqual(16, model.Latent);
        Assert.AreEqual(0.5f, model.Beta);
        Assert.AreEqual(IlgpuVae.Kernels.Likelihood.Gaussian, model.Likelihood);
        Assert.AreEqual(0.2f, model.Sigma);
        Assert.AreEqual(3e-4f, training.Adam.LearningRate);
        Assert.IsTrue(training.Adam.Decoupled);
        Assert.AreEqual(0.01f, training.Adam.WeightDecay);
        Assert.AreEqual(64, training.BatchSize);
        Assert.AreEqual(900L, training.MaxSteps);
        Assert.AreEqual(42UL, training.Seed);
        Assert.IsTrue(training.Binarize);
        Assert.AreEqual(500, training.EvalBatch);

        var (defaults, defaultTraining) = IlgpuVae.Host.Commands.TrainCommand.ParseSettings(ParsedOptions.Parse("train", command.Options, []));
        Assert.AreEqual(new IlgpuVae.Model.VaeConfig(), defaults);
        Assert.AreEqual(10, defaultTraining.Epochs);
        Assert.AreEqual(128, defaultTraining.BatchSize);
        Assert.AreEqual(1e-3f, defaultTraining.Adam.LearningRate);
        Assert.IsNull(defaultTraining.MaxSteps);
    }
}
