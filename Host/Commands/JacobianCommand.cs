using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Evaluation;
using IlgpuVae.Training.IO;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae jacobian`: the decoder as an immersed manifold; the singular values and rank of d mean / d z at prior draws.</summary>
public sealed class JacobianCommand : Command
{
    public override string Name => "jacobian";
    public override string Summary => "singular values and rank of the decoder's Jacobian d mean / d z at prior draws; the latent dimensions it ignores";

    public override string Description =>
        "Treats the decoder as a map from the latent space into image space: at --points draws z of the prior\n" +
        "(those of 'sample --count N --seed S' for an unconditional model), the Jacobian J = d mean / d z\n" +
        "(pixels x latent) of the decoder's mean image (sigmoid of the logits for a Bernoulli model), its\n" +
        "singular values (SVD in double) and its numerical rank: the singular values above --tolerance x the\n" +
        "largest. Rank = latent at a point means the decoder is an immersion there: no direction of z is lost.\n" +
        "A latent dimension whose column of J has a norm below --tolerance x the largest singular value at\n" +
        "every point is one the decoder ignores (a collapsed dimension).\n" +
        "J comes from central differences of the logits on the device, in float, with step --step, and the\n" +
        "sigmoid's derivative applied exactly. With ReLU-like activations each side is also differenced at\n" +
        "h/2, h/4 and h/8, and a one-sided difference is taken where a hidden unit changes sign within the\n" +
        "step (8 x latent + 1 decoded rows per point). A conditional model's point i has class i mod the\n" +
        "classes; a hierarchical model's z is z1, drawn through z2. The spectra (one line per point, log\n" +
        "scale) go to --out.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required; not a GAN)"),
        new("--points", "N", "points z drawn from the prior", "16"),
        new("--seed", "N", "seed of the draws", "1"),
        new("--tolerance", "T", "numerical rank: singular values above T x the largest count", DecoderJacobian.DefaultTolerance.ToString(CultureInfo.InvariantCulture)),
        new("--step", "H", "step of the central differences, in latent units", DecoderJacobian.DefaultStep.ToString(CultureInfo.InvariantCulture)),
        new("--out", "FILE", "the spectra as a PNG chart", "spectra.png"),
        new("--json", "FILE", "also write every point's z, singular values, rank and column norms as JSON"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        int count = o.Int("--points", 16, min: 1, max: 1 << 16);
        ulong seed = o.ULong("--seed", 1);
        // Checked as a float, kept as the double it names (1e-3, not the float nearest to it).
        o.Float("--tolerance", 0, min: 0);
        double tolerance = o.String("--tolerance") is { } t ? double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture) : DecoderJacobian.DefaultTolerance;
        if (tolerance >= 1) throw ParsedOptions.Bad("--tolerance", o.String("--tolerance")!, "a share of the largest singular value, 0 <= T < 1");
        float step = o.Float("--step", DecoderJacobian.DefaultStep, positive: true);
        string outPath = SharedOptions.OutputPath(o.String("--out", "spectra.png"));
        string? jsonPath = o.String("--json") is { } j ? SharedOptions.OutputPath(j) : null;
        var model = SharedOptions.LoadModel(modelPath);
        if (!ModelKinds.IsVae(model.Config.Kind))
            throw new UsageException($"'jacobian' differentiates a VAE's decoder p(x|z); '{modelPath}' is a {ModelKinds.Of(model.Config.Kind).Name} model, " +
                "whose generator it does not support (use an mlp, conditional, hierarchical or conv model)");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, model.Config, DecoderJacobian.Capacity(model.Config, count), model.Parameters);
        var result = DecoderJacobian.Analyse(network, count, seed, step, tolerance, context.Cancellation);

        string describe = model.Config.Describe();
        WriteReport(context.Out, result, describe, seed, model.Config.Likelihood);
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, Json(modelPath, model.Config, accelerator.Specifier, seed, result));
        try
        {
            SpectraPlot.Write(outPath, result, $"decoder Jacobian spectra: {describe}, {count} points");
        }
        catch (Exception e) when (LineCharts.IsDrawingFailure(e))
        {
            throw new InvalidOperationException($"cannot draw {outPath}: the chart library's native Skia (libSkiaSharp.so beside the program) " +
                $"is missing or unusable: {LineCharts.Reason(e)}", e);
        }
        context.Out.WriteLine($"wrote the spectra of {count} points to {outPath}");
        return ExitCodes.Ok;
    }

    private static void WriteReport(TextWriter o, DecoderJacobianResult r, string describe, ulong seed, Likelihood likelihood)
    {
        var c = CultureInfo.InvariantCulture;
        string mean = likelihood == Likelihood.Bernoulli ? "sigmoid of the logits" : "the Gaussian mean";
        o.WriteLine($"decoder Jacobian d mean / d z of {describe} ({r.Input} x {r.Latent}, mean = {mean}) at {r.Points.Count} prior draws (seed {seed})");
        o.WriteLine($"finite differences of the logits on the device (central, one-sided at a kink), step {r.Step.ToString("G3", c)}; singular values by SVD in double, largest first");
        o.WriteLine($"rank: singular values above {r.Tolerance.ToString("G3", c)} x the largest");
        bool labelled = r.Points.Any(p => p.Label is not null);
        o.WriteLine($"{"point",5} {(labelled ? "class " : "")}{"rank",4}  singular values");
        for (int p = 0; p < r.Points.Count; p++)
        {
            var point = r.Points[p];
            string label = labelled ? $"{point.Label,5} " : "";
            o.WriteLine($"{p,5} {label}{point.Rank,4}  {string.Join(" ", point.SingularValues.Select(s => s.ToString("0.000e+0", c)))}");
        }
        var ranks = r.Points.Select(p => p.Rank).Order().ToArray();
        o.WriteLine(ranks[0] == ranks[^1]
            ? $"rank {ranks[0]} of {r.Latent} at every point{(ranks[0] == r.Latent ? ": the decoder is an immersion at each of them" : "")}"
            : $"rank {ranks[0]} to {ranks[^1]} of {r.Latent} (median {ranks[ranks.Length / 2]})");
        int[] ignored = r.IgnoredDimensions;
        var relative = r.RelativeColumnNorms;
        // Every dimension by how far it moves the image: a gap in this list separates the used from the collapsed.
        o.WriteLine("latent dimensions by how far they move the image (column norm of J / largest singular value, the most over the points):");
        o.WriteLine("  " + string.Join(" ", Enumerable.Range(0, r.Latent).OrderBy(d => relative[d]).ThenBy(d => d)
            .Select(d => $"z[{d}] {relative[d].ToString("0.###e+0", c)}")));
        o.WriteLine(ignored.Length == 0
            ? $"no latent dimension is ignored (none below {r.Tolerance.ToString("G3", c)} at every point)"
            : $"latent dimensions the decoder ignores (column of J below {r.Tolerance.ToString("G3", c)} x the largest singular value at every point): " +
              string.Join(", ", ignored.Select(d => $"z[{d}]")));
    }

    private static string Json(string modelPath, VaeConfig config, string device, ulong seed, DecoderJacobianResult r)
    {
        static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        var points = new JsonArray();
        foreach (var p in r.Points)
        {
            var point = new JsonObject
            {
                ["z"] = Numbers(p.Z.Select(v => (double)v)),
                ["singular_values"] = Numbers(p.SingularValues),
                ["rank"] = p.Rank,
                ["column_norms"] = Numbers(p.ColumnNorms),
            };
            if (p.Label is { } label) point["label"] = label;
            points.Add((JsonNode)point);
        }
        var json = new JsonObject
        {
            ["model"] = modelPath, ["kind"] = ModelKinds.Of(config.Kind).Name, ["device"] = device, ["seed"] = seed,
            ["input"] = r.Input, ["latent"] = r.Latent,
            ["method"] = "finite differences of the decoder logits in float on the device (central; one-sided where a kink lies within the step), the derivative of the mean (sigmoid) applied exactly",
            ["step"] = r.Step, ["tolerance"] = r.Tolerance,
            ["ranks"] = new JsonArray(r.Points.Select(p => (JsonNode?)p.Rank).ToArray()),
            ["ignored_dimensions"] = new JsonArray(r.IgnoredDimensions.Select(d => (JsonNode?)d).ToArray()),
            ["relative_column_norms"] = Numbers(r.RelativeColumnNorms),
            ["points"] = points,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
