using System.Globalization;
using System.Text.Json.Nodes;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Evaluation;
using IlgpuVae.Training.IO;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae denoise`: a denoising VAE on corrupted test images; PSNR and a picture of triplets.</summary>
public sealed class DenoiseCommand : Command
{
    public override string Name => "denoise";
    public override string Summary => "corrupt test images, denoise them with a model; PSNR and a PNG of noisy/denoised/clean";

    public override string Description =>
        "Corrupts the test images (--corrupt, by default the corruption the model was trained with), encodes\n" +
        "each corrupted image to its posterior mean and decodes it, and prints the PSNR (mean over images of\n" +
        "10 log10(1 / MSE), pixels in [0, 1]) of the corrupted input and of the model's output against the\n" +
        "clean image. The PNG shows triplets: corrupted (left), denoised (middle), clean (right).";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train --corrupt ...' (required)"),
        new("--corrupt", "C", "gaussian:S, salt-pepper:P, mask:P or downsample:F", "the model's training corruption"),
        new("--data", "DIR", "directory of the IDX files", IdxDataSet.DefaultDirectory),
        new("--count", "N", "test images scored", "all"),
        new("--triplets", "N", "triplets in the picture (4 a row)", "32"),
        new("--out", "FILE", "output PNG", "denoised.png"),
        new("--json", "FILE", "also write the numbers as JSON"),
        new("--seed", "N", "seed of the corruption's noise", "1"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        string dataDir = o.Path("--data", "a directory of IDX files") ?? IdxDataSet.DefaultDirectory;
        int triplets = o.Int("--triplets", 32, min: 0, max: 4096);
        ulong seed = o.ULong("--seed", 1);
        string outPath = SharedOptions.OutputPath(o.String("--out", "denoised.png"));
        string? jsonPath = o.String("--json") is { } j ? SharedOptions.OutputPath(j) : null;
        var model = SharedOptions.LoadModel(modelPath);
        SharedOptions.RequireEncoder(model, modelPath, "denoise");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        var corruption = ParseCorruption(o, model, modelPath);

        var data = IdxDataSet.Load(dataDir);
        var images = data.Test;
        if (images.Rows * images.Columns != model.Config.Input)
            throw new DataSetException($"the images in '{dataDir}' are {images.Rows}x{images.Columns}, but the model '{modelPath}' " +
                $"takes {model.Config.ImageHeight}x{model.Config.ImageWidth}", dataDir);
        int count = Math.Min(o.Int("--count", images.Count, min: 1), images.Count);
        if (count == 0) throw new DataSetException($"the test split of '{dataDir}' holds no images", dataDir);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, model.Config, Math.Min(count, 1000), model.Parameters);
        var result = Denoising.Evaluate(network, images.Pixels, data.TestLabels, count, corruption, seed, triplets, context.Cancellation);
        if (result.Kept > 0) WriteTriplets(outPath, result, model.Config);

        var c = CultureInfo.InvariantCulture;
        context.Out.WriteLine($"{corruption} on {count} test images: PSNR of the corrupted input {result.Noisy.MeanDb.ToString("F2", c)} dB, " +
            $"denoised {result.Denoised.MeanDb.ToString("F2", c)} dB ({(result.GainDb >= 0 ? "+" : "")}{result.GainDb.ToString("F2", c)} dB)");
        if (result.Kept > 0) context.Out.WriteLine($"wrote {result.Kept} triplets (corrupted, denoised, clean) to {outPath}");
        if (jsonPath is not null)
        {
            var json = new JsonObject
            {
                ["model"] = modelPath, ["corrupt"] = corruption.ToString(), ["images"] = count, ["seed"] = seed, ["device"] = accelerator.Specifier,
                ["psnr_noisy_db"] = Math.Round(result.Noisy.MeanDb, 4), ["psnr_denoised_db"] = Math.Round(result.Denoised.MeanDb, 4),
                ["psnr_noisy_pooled_db"] = Math.Round(result.Noisy.PooledDb, 4), ["psnr_denoised_pooled_db"] = Math.Round(result.Denoised.PooledDb, 4),
                ["gain_db"] = Math.Round(result.GainDb, 4),
            };
            AtomicFile.WriteAllText(jsonPath, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        return ExitCodes.Ok;
    }

    /// <summary>--corrupt, or the corruption recorded in the model file; a model trained without one needs --corrupt.</summary>
    private static Corruption ParseCorruption(ParsedOptions o, VaeModel model, string modelPath)
    {
        string? text = o.String("--corrupt");
        if (text is null)
        {
            model.Metadata.TryGetValue("corrupt", out text);
            if (text is null or "none")
                throw new UsageException($"the model '{modelPath}' was not trained with a corruption: give --corrupt (e.g. gaussian:0.3)");
        }
        try
        {
            var corruption = Corruption.Parse(text);
            if (corruption.Kind == CorruptionKind.None) throw new FormatException("'none' corrupts nothing: give a corruption to remove");
            return corruption;
        }
        catch (FormatException e) { throw new UsageException($"option '--corrupt': {e.Message}"); }
    }

    /// <summary>Rows of four (corrupted, denoised, clean) triplets.</summary>
    private static void WriteTriplets(string path, DenoisingResult r, VaeConfig config)
    {
        int size = config.Input;
        var tiles = new float[3L * r.Kept * size];
        for (int i = 0; i < r.Kept; i++)
        {
            r.KeptNoisy.AsSpan(i * size, size).CopyTo(tiles.AsSpan(3 * i * size));
            r.KeptDenoised.AsSpan(i * size, size).CopyTo(tiles.AsSpan((3 * i + 1) * size));
            r.KeptClean.AsSpan(i * size, size).CopyTo(tiles.AsSpan((3 * i + 2) * size));
        }
        ImageOutputs.WriteGrid(path, tiles, 3 * r.Kept, config, 3 * Math.Min(4, r.Kept));
    }
}
