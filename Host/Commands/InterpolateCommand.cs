using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae interpolate`: a row of images decoded along the path between two images' latent means.</summary>
public sealed class InterpolateCommand : Command
{
    public override string Name => "interpolate";
    public override string Summary => "decode the latent path between two data images; a PNG row";

    public override string Description =>
        "Encodes images --from I and --to J of the test (or train) split to their posterior means a and b and\n" +
        "decodes --steps points z_k, t = k / (steps - 1), from a (t = 0) to b (t = 1): on the line,\n" +
        "z = (1 - t) a + t b, or with --slerp on the great circle, z = sin((1 - t) θ) / sin θ a + sin(t θ) / sin θ b\n" +
        "with θ = arccos(a·b / (|a| |b|)). The PNG is one row: image I, the steps decoded points, image J; the\n" +
        "first and last decoded points are the reconstructions of I and J. A conditional model's class is\n" +
        "blended along the same t, from I's one-hot label to J's. A hierarchical model's path is in z1.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--from", "I", "index of the first image in the split (required)"),
        new("--to", "J", "index of the last image in the split (required)"),
        new("--steps", "N", "decoded points, both ends included", "10"),
        new("--slerp", null, "spherical instead of linear interpolation"),
        LatentCommandSupport.DataOption(),
        LatentCommandSupport.SplitOption(),
        new("--out", "FILE", "output PNG", "interpolation.png"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        o.Required("--from");
        o.Required("--to");
        int steps = o.Int("--steps", 10, min: 2, max: 1000);
        bool slerp = o.Flag("--slerp");
        string outPath = LatentCommandSupport.OutputFile("--out", o.String("--out", "interpolation.png"), "interpolation.png");
        var model = SharedOptions.LoadModel(modelPath);
        SharedOptions.RequireEncoder(model, modelPath, "interpolate");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        var config = model.Config;

        var split = LatentCommandSupport.LoadSplit(o, model, modelPath);
        int from = LatentCommandSupport.ImageIndex(o, "--from", split), to = LatentCommandSupport.ImageIndex(o, "--to", split);
        int latent = config.Latent;
        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, config, steps, model.Parameters);
        byte[] pixels = [.. split.Pixels(from, 1), .. split.Pixels(to, 1)];
        byte[] labels = [split.Labels[from], split.Labels[to]];
        var (means, _) = LatentOutputs.Encode(network, pixels, 2, config.Classes > 0 ? labels : default, context.Cancellation);
        float[] path = LatentOutputs.Interpolate(means.AsSpan(0, latent), means.AsSpan(latent, latent), steps, slerp);

        float[] conditions = [];
        if (config.Classes > 0)
        {
            float[] a = LatentCommandSupport.OneHot(config, labels[0]), b = LatentCommandSupport.OneHot(config, labels[1]);
            conditions = new float[steps * config.Classes];
            for (int k = 0; k < steps; k++)
            {
                float t = (float)k / (steps - 1);
                for (int c = 0; c < config.Classes; c++) conditions[k * config.Classes + c] = k == steps - 1 ? b[c] : (1 - t) * a[c] + t * b[c];
            }
        }
        float[] decoded = LatentOutputs.DecodeWithConditions(network, path, steps, conditions, context.Cancellation);

        int size = config.Input;
        var row = new float[(steps + 2) * size];
        LatentCommandSupport.Originals(split, from).CopyTo(row, 0);
        decoded.CopyTo(row, size);
        LatentCommandSupport.Originals(split, to).CopyTo(row, (steps + 1) * size);
        LatentCommandSupport.WriteGrid(outPath, row, steps + 2, config, steps + 2);
        context.Out.WriteLine($"wrote {(slerp ? "the spherical" : "the linear")} interpolation of {split.Name} images {from} and {to} in {steps} steps " +
            $"(between the two originals) to {outPath}");
        return ExitCodes.Ok;
    }
}
