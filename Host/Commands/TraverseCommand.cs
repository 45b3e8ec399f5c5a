using System.Globalization;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae traverse`: one dimension of the latent space at a time, a row of images each.</summary>
public sealed class TraverseCommand : Command
{
    public override string Name => "traverse";
    public override string Summary => "vary one latent dimension at a time; a PNG with a row per dimension";

    public override string Description =>
        "For each dimension d of --dims, a row of --steps images: the decoder's means of z with z[d] going from\n" +
        "-range to +range in equal steps and the other dimensions at 0, the prior's mean (or, with --image I,\n" +
        "at the posterior mean of image I of the test or train split). Rows come in the order of --dims.\n" +
        "A conditional model draws class --label K (with --image, by default the image's class). A\n" +
        "hierarchical model's dimensions are those of z1.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--dims", "D,D,...", "latent dimensions to vary, a row each", "all, 0..latent-1"),
        new("--range", "R", "each dimension goes from -R to R", "3"),
        new("--steps", "N", "images a row", "9"),
        new("--image", "I", "start from the posterior mean of image I instead of 0"),
        LatentCommandSupport.DataOption(),
        LatentCommandSupport.SplitOption(),
        new("--label", "K", "conditional models: the class to draw"),
        new("--out", "FILE", "output PNG", "traverse.png"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        float range = o.Float("--range", 3f, positive: true);
        int steps = o.Int("--steps", 9, min: 2, max: 1000);
        string outPath = LatentCommandSupport.OutputFile("--out", o.String("--out", "traverse.png"), "traverse.png");
        if (!o.Has("--image") && (o.Has("--data") || o.Has("--split")))
            throw new UsageException($"options '--data' and '--split' choose the image of '--image'; give --image I or leave them out");
        var model = SharedOptions.LoadModel(modelPath);
        LatentCommandSupport.RequireDecoder(model, modelPath, "traverse");
        if (o.Has("--image")) SharedOptions.RequireEncoder(model, modelPath, "traverse --image");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        var config = model.Config;
        int latent = config.Latent;
        int[] dims = Dims(o, latent);
        int count = dims.Length * steps;
        if (count > LatentCommandSupport.MaxGridImages)
            throw new UsageException($"{dims.Length} dimensions of {steps} steps make {count} images, more than the {LatentCommandSupport.MaxGridImages} " +
                "of one picture: give fewer --dims or --steps");
        byte? label = LatentCommandSupport.Label(o, config);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, config, Math.Min(count, LatentCommandSupport.ChunkRows), model.Parameters);
        var origin = new float[latent];
        string from = "0";
        if (o.Has("--image"))
        {
            var split = LatentCommandSupport.LoadSplit(o, model, modelPath);
            int index = LatentCommandSupport.ImageIndex(o, "--image", split);
            label ??= config.Classes > 0 ? split.Labels[index] : null;
            byte[] imageLabel = config.Classes > 0 ? [split.Labels[index]] : [];
            origin = LatentOutputs.Encode(network, split.Pixels(index, 1), 1, imageLabel, context.Cancellation).Means;
            from = $"the posterior mean of {split.Name} image {index}";
        }
        if (config.Classes > 0 && label is null)
            throw new UsageException($"'traverse' of a conditional model needs option '--label K', the class to decode (0..{config.Classes - 1}), " +
                "or --image I (whose class it then takes)");
        byte[] labels = label is { } k ? Enumerable.Repeat(k, count).ToArray() : [];

        float[] images = LatentOutputs.Decode(network, LatentOutputs.Traversal(origin, dims, range, steps), count, labels, context.Cancellation);
        LatentCommandSupport.WriteGrid(outPath, images, count, config, steps);
        string r = range.ToString(CultureInfo.InvariantCulture);
        context.Out.WriteLine($"wrote {dims.Length} rows of {steps} images (dimension {string.Join(", ", dims.Take(8))}{(dims.Length > 8 ? ", ..." : "")} " +
            $"from -{r} to {r}, the others at {from}; {LatentCommandSupport.GridSize(count, config, steps)}) to {outPath}");
        return ExitCodes.Ok;
    }

    private static int[] Dims(ParsedOptions o, int latent)
    {
        if (o.String("--dims") is not { } text) return [.. Enumerable.Range(0, latent)];
        var dims = new List<int>();
        foreach (string part in text.Split(','))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int d) || d >= latent)
                throw ParsedOptions.Bad("--dims", text, $"a comma-separated list of latent dimensions 0..{latent - 1} (the model has {latent})");
            dims.Add(d);
        }
        return [.. dims];
    }
}
