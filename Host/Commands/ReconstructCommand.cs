using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae reconstruct`: data images beside the model's reconstructions.</summary>
public sealed class ReconstructCommand : Command
{
    public override string Name => "reconstruct";
    public override string Summary => "encode and decode data images; PNG of originals beside reconstructions";

    public override string Description =>
        "Encodes the first --count images of the test (or train) split to their latent means and decodes\n" +
        "them; writes a PNG with each original (left) beside its reconstruction (right).";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--data", "DIR", "directory of the IDX files", IdxDataSet.DefaultDirectory),
        new("--split", "S", "test or train", "test"),
        new("--count", "N", "images to reconstruct", "64"),
        new("--pairs-per-row", "N", "original/reconstruction pairs per row", "8"),
        new("--out", "FILE", "output PNG", "reconstructions.png"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        string dataDir = o.Path("--data", "a directory of IDX files") ?? IdxDataSet.DefaultDirectory;
        bool train = o.Choice("--split", false, new Dictionary<string, bool> { ["test"] = false, ["train"] = true });
        int count = o.Int("--count", 64, min: 1, max: 1 << 16);
        int perRow = o.Int("--pairs-per-row", 8, min: 1);
        string outPath = SharedOptions.OutputPath(o.String("--out", "reconstructions.png"));
        var model = SharedOptions.LoadModel(modelPath);
        SharedOptions.RequireEncoder(model, modelPath, "reconstruct");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);

        var data = IdxDataSet.Load(dataDir);
        var images = train ? data.Train : data.Test;
        if (images.Rows * images.Columns != model.Config.Input)
            throw new DataSetException($"the images in '{dataDir}' are {images.Rows}x{images.Columns}, but the model '{modelPath}' " +
                $"takes {model.Config.ImageHeight}x{model.Config.ImageWidth}", dataDir);
        count = Math.Min(count, images.Count);
        if (count == 0) throw new DataSetException($"the {(train ? "train" : "test")} split of '{dataDir}' holds no images", dataDir);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, model.Config, Math.Min(count, 1024), model.Parameters);
        var (originals, reconstructions) = ImageOutputs.Reconstruct(network, images.Pixels, count, train ? data.TrainLabels : data.TestLabels);
        ImageOutputs.WritePairs(outPath, originals, reconstructions, count, model.Config, Math.Min(perRow, count));
        double error = 0;
        for (int i = 0; i < originals.Length; i++) error += (originals[i] - reconstructions[i]) * (double)(originals[i] - reconstructions[i]);
        context.Out.WriteLine($"wrote {count} reconstructions to {outPath} (mean squared pixel error {error / originals.Length:F5})");
        return ExitCodes.Ok;
    }
}
