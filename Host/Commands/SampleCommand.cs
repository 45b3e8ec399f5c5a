using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae sample`: decoder means for z from the prior, as a PNG grid.</summary>
public sealed class SampleCommand : Command
{
    public override string Name => "sample";
    public override string Summary => "draw images from a trained model's prior into a PNG grid";

    public override string Description =>
        "Draws --count latent vectors z ~ N(0, I) (Philox, keyed by --seed) and writes the decoder's mean\n" +
        "images (sigmoid of the logits for a Bernoulli model) as a grayscale PNG grid. With the training\n" +
        "seed and --count 64 this redraws the run's samples.png.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--count", "N", "images to draw", "64"),
        new("--out", "FILE", "output PNG", "samples.png"),
        new("--columns", "N", "images per row of the grid", "8, or ceil(sqrt(count)) above 64"),
        new("--seed", "N", "seed of the latent draws", "1"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        int count = o.Int("--count", 64, min: 1, max: 1 << 16);
        int columns = o.Int("--columns", count <= 64 ? 8 : (int)Math.Ceiling(Math.Sqrt(count)), min: 1);
        ulong seed = o.ULong("--seed", 1);
        string outPath = SharedOptions.OutputPath(o.String("--out", "samples.png"));
        var model = SharedOptions.LoadModel(modelPath);
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = new VaeNetwork(accelerator, model.Config, Math.Min(count, 1024), model.Parameters);
        float[] means = ImageOutputs.SampleMeans(network, seed, count);
        ImageOutputs.WriteGrid(outPath, means, count, model.Config, Math.Min(columns, count));
        context.Out.WriteLine($"wrote {count} samples of {model.Config.Describe()} to {outPath}");
        return ExitCodes.Ok;
    }
}
