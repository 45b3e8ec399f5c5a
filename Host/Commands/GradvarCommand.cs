using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Evaluation;
using IlgpuVae.Training.IO;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae gradvar`: the variance of the score-function and the reparameterisation gradient estimators.</summary>
public sealed class GradvarCommand : Command
{
    public override string Name => "gradvar";
    public override string Summary => "variance of the encoder's gradient: score function (REINFORCE) against reparameterisation";

    public override string Description =>
        "Estimates the gradient of the batch's negative ELBO for the first --images test images --samples times\n" +
        "with each estimator, the reparameterisation trick (reparam), the score function (score) and the\n" +
        "score function with a leave-one-out baseline (score-baseline), and prints for each tensor of the\n" +
        "encoder the mean over its elements of the gradient's mean and variance, and the variance of the\n" +
        "score-function estimators relative to reparam. 'agree' is the share of elements whose means agree\n" +
        "with reparam's within 3 standard errors (about 0.997 for two unbiased estimators).";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--samples", "N", "gradient estimates per estimator", "100"),
        new("--images", "N", "test images in the batch", "100"),
        new("--data", "DIR", "directory of the IDX files", IdxDataSet.DefaultDirectory),
        new("--json", "FILE", "also write the statistics as JSON"),
        new("--seed", "N", "seed of the draws", "1"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        int samples = o.Int("--samples", 100, min: 2, max: 1 << 20);
        int images = o.Int("--images", 100, min: 1, max: 1 << 16);
        string dataDir = o.Path("--data", "a directory of IDX files") ?? IdxDataSet.DefaultDirectory;
        string? jsonPath = o.String("--json") is { } j ? SharedOptions.OutputPath(j) : null;
        ulong seed = o.ULong("--seed", 1);
        var model = SharedOptions.LoadModel(modelPath);
        SharedOptions.RequireEncoder(model, modelPath, "gradvar");
        if (model.Config.Kind == ModelKind.Hierarchical)
            throw new UsageException($"'gradvar' compares estimators of one latent layer; '{modelPath}' is a hierarchical model (use an mlp, conditional or conv model)");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);

        var data = IdxDataSet.Load(dataDir);
        var test = data.Test;
        if (test.Rows * test.Columns != model.Config.Input)
            throw new DataSetException($"the images in '{dataDir}' are {test.Rows}x{test.Columns}, but the model '{modelPath}' " +
                $"takes {model.Config.ImageHeight}x{model.Config.ImageWidth}", dataDir);
        images = Math.Min(images, test.Count);
        if (images == 0) throw new DataSetException($"the test split of '{dataDir}' holds no images", dataDir);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, model.Config, images, model.Parameters);
        var x = new float[images * model.Config.Input];
        for (int i = 0; i < x.Length; i++) x[i] = test.Pixels[i] * (1f / 255f);
        using var xBuffer = accelerator.Upload<float>(x);
        using var oneHot = ImageOutputs.OneHotBuffer(network, data.TestLabels, images);
        var batch = new VaeBatch(xBuffer, Condition: oneHot is null ? default : oneHot.View);

        var groups = GradientVariance.EncoderGroups(network.Layout);
        int reported = -1;
        var stats = GradientVariance.Run(network, batch, images, samples, seed, (e, s) =>
        {
            if (!context.IsTerminal || e == reported && s < samples) return;
            reported = e;
            context.Error.Write($"\r{GradientEstimators.Name(GradientVariance.Estimators[e])}: {s}/{samples} draws ");
        }, context.Cancellation);
        if (context.IsTerminal) context.Error.WriteLine();

        var summaries = stats.Select(s => s.Summarize(groups)).ToArray();
        var versus = stats.Skip(1).Select(s => GradientVarianceStatistics.Compare(s, stats[0], groups)).ToArray();
        WriteTable(context.Out, summaries, versus, images, samples);
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, Json(modelPath, accelerator.Specifier, images, samples, seed, summaries, versus));
        return ExitCodes.Ok;
    }

    private static void WriteTable(TextWriter o, GradientVarianceSummary[] s, GradientComparison[] versus, int images, int samples)
    {
        var c = CultureInfo.InvariantCulture;
        o.WriteLine($"encoder gradient of the summed negative ELBO of {images} test images, {samples} draws per estimator");
        o.WriteLine($"{"tensor",-12} {"elements",9} {"reparam mean",13} {"reparam var",12} {"score var",12} {"ratio",10} {"agree",6} {"baseline var",13} {"ratio",10} {"agree",6}");
        for (int g = 0; g < s[0].Groups.Count; g++)
        {
            var r = s[0].Groups[g];
            o.WriteLine($"{r.Name,-12} {r.Elements,9} {r.MeanOfMeans.ToString("0.00e+00", c),13} {r.MeanVariance.ToString("0.00e+00", c),12} " +
                $"{s[1].Groups[g].MeanVariance.ToString("0.00e+00", c),12} {versus[0].Groups[g].VarianceRatio.ToString("G3", c),10} {versus[0].Groups[g].AgreementShare.ToString("F3", c),6} " +
                $"{s[2].Groups[g].MeanVariance.ToString("0.00e+00", c),13} {versus[1].Groups[g].VarianceRatio.ToString("G3", c),10} {versus[1].Groups[g].AgreementShare.ToString("F3", c),6}");
        }
    }

    private static string Json(string model, string device, int images, int samples, ulong seed, GradientVarianceSummary[] s, GradientComparison[] versus)
    {
        var estimators = new JsonObject();
        for (int e = 0; e < s.Length; e++) estimators[GradientEstimators.Name(GradientVariance.Estimators[e])] = JsonNode.Parse(s[e].ToJson());
        var json = new JsonObject
        {
            ["model"] = model, ["device"] = device, ["images"] = images, ["samples"] = samples, ["seed"] = seed,
            ["estimators"] = estimators,
            ["score_vs_reparam"] = JsonNode.Parse(versus[0].ToJson()),
            ["score_baseline_vs_reparam"] = JsonNode.Parse(versus[1].ToJson()),
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
