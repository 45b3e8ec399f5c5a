using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae manifold`: the decoder over a grid of a 2-D latent space (Kingma and Welling's figure 4).</summary>
public sealed class ManifoldCommand : Command
{
    public override string Name => "manifold";
    public override string Summary => "decode a grid over a 2-D latent space (Kingma & Welling's figure 4); a PNG";

    public override string Description =>
        "For a model with a 2-D latent space: decodes z on the n x n grid of the prior's quantiles,\n" +
        "z_i = Φ^-1((i + 0.5) / n) for i = 0..n-1 (Φ the standard normal CDF), as Kingma and Welling's\n" +
        "\"Auto-Encoding Variational Bayes\" (2014), figure 4, lays out its learned manifolds: equal prior mass\n" +
        "between neighbours. z[0] grows from left to right, z[1] from bottom to top. A conditional model draws\n" +
        "class --label K. For a hierarchical model the grid is over z1, the latent its decoder takes. For a\n" +
        "latent space of other sizes see 'ilgpu-vae traverse', which varies one dimension at a time.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors of a model trained with --latent 2 (required)"),
        new("--n", "N", "points along each axis", "20"),
        new("--label", "K", "conditional models: the class to draw (required for them)"),
        new("--out", "FILE", "output PNG", "manifold.png"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        int n = o.Int("--n", 20, min: 1, max: 200);
        string outPath = LatentCommandSupport.OutputFile("--out", o.String("--out", "manifold.png"), "manifold.png");
        var model = SharedOptions.LoadModel(modelPath);
        LatentCommandSupport.RequireDecoder(model, modelPath, "manifold");
        var config = model.Config;
        if (config.Latent != 2)
            throw new UsageException($"'manifold' draws a 2-D latent space, and the model '{modelPath}' has {config.Latent} latent dimensions; " +
                $"'ilgpu-vae traverse --model {modelPath}' varies them one at a time (or train with --latent 2)");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        int count = n * n;
        byte[] labels = LatentCommandSupport.RequiredLabel(o, config, "manifold", count);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, config, Math.Min(count, LatentCommandSupport.ChunkRows), model.Parameters);
        float[] images = LatentOutputs.Decode(network, LatentOutputs.ManifoldGrid(n), count, labels, context.Cancellation);
        LatentCommandSupport.WriteGrid(outPath, images, count, config, n);
        double edge = LatentOutputs.PriorQuantiles(n)[^1];
        context.Out.WriteLine($"wrote the {n}x{n} manifold (z in [{LatentCommandSupport.Invariant(-edge, "F3")}, {LatentCommandSupport.Invariant(edge, "F3")}]², " +
            $"{LatentCommandSupport.GridSize(count, config, n)}) to {outPath}");
        return ExitCodes.Ok;
    }
}
