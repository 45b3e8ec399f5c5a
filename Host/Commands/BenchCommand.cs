using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Benchmarks;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae bench`: GEMM GFLOP/s on the VAE's shapes and training samples/s on a device.</summary>
public sealed class BenchCommand : Command
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override string Name => "bench";
    public override string Summary => "GEMM GFLOP/s on the VAE's shapes and training samples/s on a device";

    public override string Description =>
        "Times each GEMM of a training step of the default 784-400-20-400-784 VAE (median of --repeats),\n" +
        "then the whole training step: --steps steps of the real training loop on synthetic images held\n" +
        "on the device, after as many warm-up steps. With --json, one JSON object a line.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        SharedOptions.DeviceOption(),
        new("--repeats", "N", "timed calls per GEMM shape", "20"),
        new("--steps", "N", "timed training steps", "100"),
        new("--batch-size", "N", "training batch size", "128"),
        new("--json", null, "print JSON lines instead of a table"),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        int repeats = o.Int("--repeats", 20, min: 1, max: 100_000);
        int steps = o.Int("--steps", 100, min: 1, max: 1_000_000);
        int batch = o.Int("--batch-size", 128, min: 1, max: 1 << 16);
        bool json = o.Flag("--json");
        // The timed epoch runs over batch * steps synthetic images held on the device.
        const long MaxImages = 1_000_000;
        if ((long)batch * steps > MaxImages)
            throw new UsageException($"options '--batch-size' {batch} and '--steps' {steps}: the timed epoch would hold {(long)batch * steps:N0} images; at most {MaxImages:N0} are allowed");
        var c = CultureInfo.InvariantCulture;
        using var accelerator = SharedOptions.OpenDevice(o);
        if (!json) context.Out.WriteLine($"device {accelerator.Specifier}: {accelerator.Name}");

        var gemms = GemmBenchmark.Run(accelerator, repeats);
        if (json)
            foreach (var g in gemms)
                context.Out.WriteLine(new JsonObject
                {
                    ["type"] = "gemm", ["device"] = accelerator.Specifier, ["shape"] = g.Shape, ["trans_a"] = g.TransA.ToString(),
                    ["trans_b"] = g.TransB.ToString(), ["m"] = g.M, ["n"] = g.N, ["k"] = g.K,
                    ["ms"] = Math.Round(g.Milliseconds, 4), ["gflops"] = Math.Round(g.Gflops, 2),
                }.ToJsonString(Json));
        else
        {
            context.Out.WriteLine($"{"gemm",-14} {"op",-4} {"m",5} {"n",5} {"k",5} {"ms",9} {"GFLOP/s",9}");
            foreach (var g in gemms)
                context.Out.WriteLine($"{g.Shape,-14} {g.TransA}{g.TransB,-3} {g.M,5} {g.N,5} {g.K,5} {g.Milliseconds.ToString("F4", c),9} {g.Gflops.ToString("F1", c),9}");
        }

        double samplesPerSecond = TrainingThroughput(accelerator, batch, steps);
        if (json)
            context.Out.WriteLine(new JsonObject
            {
                ["type"] = "training", ["device"] = accelerator.Specifier, ["device_name"] = accelerator.Name, ["model"] = new VaeConfig().Describe(),
                ["batch_size"] = batch, ["steps"] = steps, ["samples_per_s"] = Math.Round(samplesPerSecond, 1),
            }.ToJsonString(Json));
        else
            context.Out.WriteLine($"training: {samplesPerSecond.ToString("F0", c)} samples/s ({new VaeConfig().Describe()}, batch {batch}, {steps} steps)");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Samples per second of the real training loop (gather, forward, loss, backward, Adam) over
    /// steps steps; the first epoch over the same synthetic images warms up caches and the JIT.
    /// </summary>
    public static double TrainingThroughput(Accelerator accelerator, int batch, int steps)
    {
        var config = new VaeConfig();
        int count = batch * steps;
        var pixels = new byte[(long)count * config.Input];
        new Random(1).NextBytes(pixels);
        var train = new IdxImages(count, config.ImageHeight, config.ImageWidth, pixels);
        var test = new IdxImages(1, config.ImageHeight, config.ImageWidth, pixels.AsSpan(0, config.Input).ToArray());
        var options = new TrainingOptions { Epochs = 2, BatchSize = batch, EvalBatch = 1, ProgressEvery = int.MaxValue };
        using var trainer = new VaeTrainer(accelerator, config, options, train, test);
        trainer.TrainEpoch(1);
        return trainer.TrainEpoch(2).SamplesPerSecond;
    }
}
