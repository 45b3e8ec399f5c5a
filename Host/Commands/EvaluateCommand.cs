using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Evaluation;
using IlgpuVae.Training.IO;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae evaluate`: the importance-sampled test log-likelihood of a saved model (Burda et al. 2016).</summary>
public sealed class EvaluateCommand : Command
{
    public const int DefaultSamples = 5000;
    public const int DefaultRowsPerForward = 2000;

    public override string Name => "evaluate";
    public override string Summary => "importance-sampled test log-likelihood of a model, beside its ELBO";

    public override string Description =>
        "Estimates -log p(x) of each test image by importance sampling (Burda et al. 2016):\n" +
        "log p(x) ~ logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K, z_k ~ q(z|x), with the model's\n" +
        "own likelihood. Prints the mean negative ELBO (first sample, and averaged over the K samples) and\n" +
        "-log p(x) for K = 1, 10, 100, ... up to --k (nested: the first K of the same samples), in nats per\n" +
        "image with standard errors over images. A model trained with --binarize is scored on the test images\n" +
        "binarised once with a fixed seed. Everything runs on the device; --batch is the number of sample rows\n" +
        "one forward decodes.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--data", "DIR", "directory of the IDX files", IdxDataSet.DefaultDirectory),
        new("--k", "K", "importance samples per image", DefaultSamples.ToString(CultureInfo.InvariantCulture)),
        new("--images", "N", "test images to evaluate (the first N)", "all"),
        new("--batch", "B", "sample rows per decoder forward", DefaultRowsPerForward.ToString(CultureInfo.InvariantCulture)),
        SharedOptions.DeviceOption(),
        new("--seed", "N", "seed of the samples (and of the binarisation)", "1"),
        new("--json", "FILE", "also write the results as JSON"),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        string dataDir = o.Path("--data", "a directory of IDX files") ?? IdxDataSet.DefaultDirectory;
        int samples = o.Int("--k", DefaultSamples, min: 1, max: 1_000_000);
        int? imageLimit = o.Has("--images") ? o.Int("--images", 0, min: 1) : null;
        int rowsPerForward = o.Int("--batch", DefaultRowsPerForward, min: 1, max: 1 << 20);
        ulong seed = o.ULong("--seed", 1);
        string? jsonPath = o.String("--json") is { } json ? JsonPath(json) : null;
        var model = SharedOptions.LoadModel(modelPath);
        SharedOptions.RequireEncoder(model, modelPath, "evaluate");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        bool binarize = model.Metadata.TryGetValue("binarize", out var b) && b == "true"
                        || model.Metadata.TryGetValue("training.binarize", out var tb) && tb == "true";

        var data = IdxDataSet.Load(dataDir);
        var images = data.Test;
        if (images.Rows * images.Columns != model.Config.Input)
            throw new DataSetException($"the images in '{dataDir}' are {images.Rows}x{images.Columns}, but the model '{modelPath}' " +
                $"takes {model.Config.ImageHeight}x{model.Config.ImageWidth}", dataDir);
        int count = Math.Min(imageLimit ?? images.Count, images.Count);
        if (count == 0) throw new DataSetException($"the test split of '{dataDir}' holds no images", dataDir);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var evaluator = new ImportanceSampledLikelihood(accelerator, model.Config, model.Parameters, rowsPerForward);
        context.Out.WriteLine($"evaluating {model.Config.Describe()} ({Describe(model.Config, binarize)}) on {count} test images, " +
                              $"K = {samples}, on {accelerator.Specifier}");
        var clock = Stopwatch.StartNew();
        int reported = 0;
        var result = evaluator.Evaluate(images.Pixels, count, samples, seed, binarize, context.Cancellation, done =>
        {
            // A line about every tenth of the images: long runs show they are alive, short ones stay quiet.
            if (done < count && done * 10L / count > reported * 10L / count)
                context.Out.WriteLine($"  {done}/{count} images ({clock.Elapsed.TotalSeconds:F0} s)");
            reported = done;
        });
        double seconds = clock.Elapsed.TotalSeconds;
        context.Out.Write(Table(result));
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:F1} s ({(double)count * samples / seconds:N0} samples/s)"));
        if (jsonPath is not null)
        {
            AtomicFile.WriteAllText(jsonPath, ToJson(result, model.Config, modelPath, binarize, seed, accelerator.Specifier, seconds));
            context.Out.WriteLine($"wrote {jsonPath}");
        }
        return ExitCodes.Ok;
    }

    private static string Describe(VaeConfig config, bool binarize) =>
        (config.Likelihood == Kernels.Likelihood.Bernoulli
            ? "Bernoulli likelihood"
            : string.Create(CultureInfo.InvariantCulture, $"Gaussian likelihood, sigma {config.Sigma}"))
        + (binarize ? ", test images binarised once with the seed (the model was trained with --binarize)" : ", test images as intensities in [0, 1]");

    /// <summary>The table of the results, in nats per image.</summary>
    public static string Table(ImportanceSamplingResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var lines = new System.Text.StringBuilder();
        lines.Append(inv, $"{"",-30}{"nats/image",12}{"std. error",12}\n");
        lines.Append(inv, $"{"-ELBO, 1 sample",-30}{r.NegativeElboOneSample.Mean,12:F3}{r.NegativeElboOneSample.StandardError,12:F3}\n");
        lines.Append(inv, $"{$"-ELBO, mean of {r.Samples} samples",-30}{r.NegativeElboAveraged.Mean,12:F3}{r.NegativeElboAveraged.StandardError,12:F3}\n");
        foreach (var e in r.Estimates)
            lines.Append(inv, $"{$"-log p(x), K = {e.Samples}",-30}{e.NegativeLogLikelihood.Mean,12:F3}{e.NegativeLogLikelihood.StandardError,12:F3}\n");
        return lines.ToString();
    }

    public static string ToJson(ImportanceSamplingResult r, VaeConfig config, string modelPath, bool binarize, ulong seed, string device, double seconds)
    {
        // JsonNode, not the reflection serializer: the trimmed self-contained publish keeps no metadata for anonymous types.
        static JsonObject Stat(MeanWithError m) => new() { ["mean"] = m.Mean, ["standard_error"] = m.StandardError };
        var document = new JsonObject
        {
            ["model"] = modelPath,
            ["architecture"] = config.Describe(),
            ["likelihood"] = config.Likelihood.ToString().ToLowerInvariant(),
            ["sigma"] = config.Likelihood == Kernels.Likelihood.Gaussian ? config.Sigma : null,
            ["binarized"] = binarize,
            ["images"] = r.Images,
            ["k"] = r.Samples,
            ["seed"] = seed,
            ["device"] = device,
            ["seconds"] = seconds,
            ["units"] = "nats per image",
            ["negative_elbo_one_sample"] = Stat(r.NegativeElboOneSample),
            ["negative_elbo_mean_over_k"] = Stat(r.NegativeElboAveraged),
            ["negative_log_likelihood"] = new JsonArray(r.Estimates.Select(e => (JsonNode)new JsonObject
            {
                ["k"] = e.Samples, ["mean"] = e.NegativeLogLikelihood.Mean, ["standard_error"] = e.NegativeLogLikelihood.StandardError,
            }).ToArray()),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static string JsonPath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw ParsedOptions.Bad("--json", path, "a file name such as evaluation.json");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"option '--json': '{path}' is a directory; expected a file name such as evaluation.json");
        if (Model.IO.AtomicFileWriter.WhyNotReplaceable(full) is { } problem)
            throw new UsageException($"option '--json': '{path}' {problem}; expected a regular file such as evaluation.json");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return full;
    }
}
