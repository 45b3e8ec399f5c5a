using System.Globalization;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae train`: trains a VAE and writes metrics, the model, samples and reconstructions to a run directory.</summary>
public sealed class TrainCommand : Command
{
    private static readonly Dictionary<string, Likelihood> Likelihoods = new()
    {
        ["bernoulli"] = Likelihood.Bernoulli, ["gaussian"] = Likelihood.Gaussian,
    };

    private static readonly Dictionary<string, Activation> Activations = new()
    {
        ["relu"] = Activation.Relu, ["leaky-relu"] = Activation.LeakyRelu, ["tanh"] = Activation.Tanh, ["sigmoid"] = Activation.Sigmoid,
    };

    public override string Name => "train";
    public override string Summary => "train a VAE; writes metrics.jsonl, model.safetensors, samples.png, reconstructions.png";

    public override string Description =>
        "Trains a VAE (MLP encoder and decoder, Adam, the PyTorch examples model by default) on the IDX\n" +
        "data set of --data, evaluating the test loss after every epoch: the mean per-image\n" +
        "reconstruction + beta * KL with one z sample (the negative ELBO for beta 1). The run directory receives:\n" +
        "  metrics.jsonl        one JSON object a line: a \"run\" line, one \"epoch\" line per epoch\n" +
        "                       (epoch, step, train_loss, test_loss, epoch_seconds, samples_per_s, ...), an \"end\" line\n" +
        "  model.safetensors    the parameters, with the model configuration in the metadata\n" +
        "  samples.png          8x8 decoder means for z drawn from the prior N(0, I)\n" +
        "  reconstructions.png  test images (left) beside their reconstructions (right), 8 rows of 8 pairs\n" +
        "Same seed and device: the same numbers. Ctrl-C stops after the current step and still writes\n" +
        "every output (exit code 130). A terminal shows a progress bar; otherwise plain log lines.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--epochs", "N", "passes over the training set", "10"),
        new("--max-steps", "N", "stop after N optimiser steps in total (outputs are still written)"),
        new("--batch-size", "N", "samples per step; the last batch of an epoch takes the remainder", "128"),
        new("--lr", "X", "Adam learning rate", "0.001"),
        new("--weight-decay", "X", "L2 weight decay (added to the gradient, like torch.optim.Adam)", "0"),
        new("--adamw", null, "decoupled weight decay (AdamW) instead of L2"),
        new("--hidden", "LIST", "hidden layer widths, input side first, e.g. 400 or 512,256", VaeConfig.DefaultHidden),
        new("--latent", "N", "latent dimensions", "20"),
        new("--beta", "X", "weight of the KL term (beta-VAE)", "1"),
        new("--likelihood", "L", "decoder likelihood: bernoulli (logits) or gaussian (fixed sigma)", "bernoulli"),
        new("--sigma", "X", "standard deviation of the gaussian likelihood", "1"),
        new("--activation", "A", "hidden activation: relu, leaky-relu, tanh, sigmoid", "relu"),
        new("--binarize", null, "dynamic binarisation: pixels become 1 with probability equal to their intensity"),
        new("--seed", "N", "seed of every random draw (initialisation, shuffles, sampling)", "1"),
        SharedOptions.DeviceOption(),
        new("--data", "DIR", "directory of the IDX files (train-images-idx3-ubyte[.gz] and the other three)", IdxDataSet.DefaultDirectory),
        new("--run-dir", "DIR", "output directory", "runs/<yyyyMMdd-HHmmss>"),
        new("--eval-batch", "N", "test samples per evaluation batch", "1000"),
        new("--quiet", null, "print nothing but errors"),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        var (model, training) = ParseSettings(o);
        string dataDir = o.String("--data", IdxDataSet.DefaultDirectory);
        string runDir = o.String("--run-dir") ?? DefaultRunDirectory();

        // The device first: a mistyped --device is reported before seconds of data loading.
        using var accelerator = SharedOptions.OpenDevice(o);
        var data = IdxDataSet.Load(dataDir);
        var reporter = new ConsoleReporter(context.Out, context.IsTerminal, o.Flag("--quiet"));
        // A progress bar redraws often; log lines every 100 steps keep batch logs short.
        training = training with { ProgressEvery = context.IsTerminal ? 10 : 100 };
        var result = TrainingRun.Execute(accelerator, data, new TrainingRunSettings(model, training, runDir, dataDir), reporter, context.Cancellation);
        if (result.Interrupted)
        {
            context.Error.WriteLine($"ilgpu-vae train: interrupted after step {result.Steps}; outputs written to {result.RunDirectory}");
            return ExitCodes.Interrupted;
        }
        return ExitCodes.Ok;
    }

    /// <summary>The model and training settings of the options (every value checked, errors name the option).</summary>
    public static (VaeConfig Model, TrainingOptions Training) ParseSettings(ParsedOptions o)
    {
        int[] hidden;
        try { hidden = VaeConfig.ParseHidden(o.String("--hidden", VaeConfig.DefaultHidden)); }
        catch (FormatException) { throw ParsedOptions.Bad("--hidden", o.String("--hidden")!, "a list of positive layer widths such as 400 or 512,256"); }

        var model = new VaeConfig
        {
            Hidden = hidden,
            Latent = o.Int("--latent", 20, min: 1),
            Beta = o.Float("--beta", 1f, min: 0f),
            Likelihood = o.Choice("--likelihood", Likelihood.Bernoulli, Likelihoods),
            Sigma = o.Float("--sigma", 1f, positive: true),
            Activation = o.Choice("--activation", Activation.Relu, Activations),
        };
        var training = new TrainingOptions
        {
            Epochs = o.Int("--epochs", 10, min: 1),
            MaxSteps = o.Long("--max-steps", min: 1),
            BatchSize = o.Int("--batch-size", 128, min: 1, max: 1 << 20),
            Adam = AdamSettings.Default with
            {
                LearningRate = o.Float("--lr", 1e-3f, positive: true),
                WeightDecay = o.Float("--weight-decay", 0f, min: 0f),
                Decoupled = o.Flag("--adamw"),
            },
            Binarize = o.Flag("--binarize"),
            Seed = o.ULong("--seed", 1),
            EvalBatch = o.Int("--eval-batch", 1000, min: 1, max: 1 << 20),
        };
        return (model, training);
    }

    private static string DefaultRunDirectory()
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string dir = Path.Combine("runs", stamp);
        for (int n = 2; Directory.Exists(dir); n++) dir = Path.Combine("runs", $"{stamp}-{n}");
        return dir;
    }
}
