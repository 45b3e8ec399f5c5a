using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae encode`: the encoder's posterior means (and log-variances) of data images, as .npy files.</summary>
public sealed class EncodeCommand : Command
{
    public override string Name => "encode";
    public override string Summary => "encode data images to their latent means (and log-variances) as NumPy .npy files";

    public override string Description =>
        "Encodes the first --count images of the test (or train) split and writes the means of the encoder's\n" +
        "posterior q(z|x) as a count x latent float32 array to --out, the log-variances likewise to --logvar,\n" +
        "and the images' labels (uint8, from the IDX label file) to --labels, by default labels.npy beside --out.\n" +
        "In Python: z = np.load('z.npy'). A conditional model encodes each image with its label. A hierarchical\n" +
        "model's latents are those of z1, the layer its decoder takes: q(z1 | x, z2) with z2 at its posterior mean.\n" +
        "'ilgpu-vae decode --in z.npy' turns the means back into images (the reconstructions).";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        LatentCommandSupport.DataOption(),
        LatentCommandSupport.SplitOption(),
        new("--count", "N", "images to encode", "all of the split"),
        new("--out", "FILE", "the means, a .npy file (required)"),
        new("--logvar", "FILE", "also write the log-variances, a .npy file"),
        new("--labels", "FILE", "the labels, a .npy file", "labels.npy beside --out"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        string outPath = LatentCommandSupport.OutputFile("--out", o.Required("--out"), "z.npy");
        string? logvarPath = o.String("--logvar") is { } lv ? LatentCommandSupport.OutputFile("--logvar", lv, "logvar.npy") : null;
        string labelsPath = o.String("--labels") is { } lb
            ? LatentCommandSupport.OutputFile("--labels", lb, "labels.npy")
            : Path.Combine(Path.GetDirectoryName(outPath)!, "labels.npy");
        LatentCommandSupport.Distinct(("--out", outPath), ("--logvar", logvarPath), ("--labels", labelsPath));
        int? countOption = o.Has("--count") ? o.Int("--count", 0, min: 1) : null;
        var model = SharedOptions.LoadModel(modelPath);
        SharedOptions.RequireEncoder(model, modelPath, "encode");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);

        var split = LatentCommandSupport.LoadSplit(o, model, modelPath);
        int count = Math.Min(countOption ?? split.Count, split.Count);
        int latent = model.Config.Latent;
        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, model.Config, Math.Min(count, LatentCommandSupport.ChunkRows), model.Parameters);
        var (means, logVariances) = LatentOutputs.Encode(network, split.Pixels(0, count), count, split.Labels, context.Cancellation);

        NpyFile.Write<float>(outPath, means, [count, latent]);
        if (logvarPath is not null) NpyFile.Write<float>(logvarPath, logVariances, [count, latent]);
        NpyFile.Write<byte>(labelsPath, split.Labels.AsMemory(0, count), [count]);
        string which = model.Config.Kind == ModelKind.Hierarchical ? "z1 " : "";
        context.Out.WriteLine($"wrote the {which}posterior means of {count} {split.Name} images ({count} x {latent} float32) to {outPath}");
        if (logvarPath is not null) context.Out.WriteLine($"wrote their log-variances ({count} x {latent} float32) to {logvarPath}");
        context.Out.WriteLine($"wrote their labels ({count} uint8) to {labelsPath}");
        return ExitCodes.Ok;
    }
}
