using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Benchmarks;
using IlgpuVae.Training.Distributed;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae bench`: GEMM GFLOP/s on the VAE's shapes and training samples/s on a device.</summary>
public sealed class BenchCommand : Command
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override string Name => "bench";
    public override string Summary => "GEMM GFLOP/s on the VAE's shapes and training samples/s on a device";

    public override string Description =>
        "Times each GEMM of a training step of the default 784-400-20-400-784 VAE (median of --repeats),\n" +
        "then the whole training step: the real training loop on synthetic images held on the device.\n" +
        "It first warms up for at least --warmup seconds and 50 steps, until the JIT has compiled the\n" +
        "hot code as in a warm epoch: a 0.2 s block with (almost) no JIT compilation whose time per step\n" +
        "is within 3% of the block before (20 s at most, or --warmup if longer). Then it times --steps\n" +
        "steps in up to 5 blocks and reports the median block's samples/s.\n" +
        "On a CUDA device it also puts our GEMM beside cuBLAS (through ILGPU.Algorithms) on the same\n" +
        "GPU: the VAE's shapes and 4096^3, plain GEMMs on the same inputs, with how far the results differ.\n" +
        "Under mpirun, mpiexec or srun with several ranks it times instead what a parallel step adds: the\n" +
        "all-reduce of the default model's gradients (median of --repeats), printed by rank 0.\n" +
        "With --json, one JSON object a line.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        SharedOptions.DeviceOption(),
        new("--repeats", "N", "timed calls per GEMM shape", "20"),
        new("--steps", "N", "timed training steps (after the warm-up)", "100"),
        new("--warmup", "S", "minimum warm-up time in seconds before the timed steps", "2"),
        new("--batch-size", "N", "training batch size", "128"),
        new("--json", null, "print JSON lines instead of a table"),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        int repeats = o.Int("--repeats", 20, min: 1, max: 100_000);
        int steps = o.Int("--steps", 100, min: 1, max: 1_000_000);
        int batch = o.Int("--batch-size", 128, min: 1, max: 1 << 16);
        float warmupSeconds = o.Float("--warmup", 2, min: 0);
        if (warmupSeconds > MaxWarmupOption) throw ParsedOptions.Bad("--warmup", o.String("--warmup")!, $"a number in 0..{MaxWarmupOption}");
        bool json = o.Flag("--json");
        // Each timed step trains on a batch of its own: batch * steps synthetic images held on the device.
        const long MaxImages = 1_000_000;
        if ((long)batch * steps > MaxImages)
            throw new UsageException($"options '--batch-size' {batch} and '--steps' {steps}: the synthetic training set would hold {(long)batch * steps:N0} images; at most {MaxImages:N0} are allowed");
        var c = CultureInfo.InvariantCulture;
        using (var ranks = Communicators.ForThisProcess())
            if (ranks.Size > 1) return BenchAllReduce(ranks, repeats, json, context);
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

        if (accelerator.Kind == BackendKind.Cuda) CompareWithCuBlas(accelerator, repeats, json, context);

        var settings = new TrainingBenchmarkSettings { MinWarmupSeconds = warmupSeconds };
        var training = TrainingBenchmark.Run(accelerator, batch, steps, settings);
        if (json)
            context.Out.WriteLine(new JsonObject
            {
                ["type"] = "training", ["device"] = accelerator.Specifier, ["device_name"] = accelerator.Name, ["model"] = new VaeConfig().Describe(),
                ["batch_size"] = batch, ["steps"] = steps, ["samples_per_s"] = Math.Round(training.SamplesPerSecond, 1),
                ["blocks"] = training.BlockSamplesPerSecond.Count,
                ["samples_per_s_min"] = Math.Round(training.BlockSamplesPerSecond.Min(), 1),
                ["samples_per_s_max"] = Math.Round(training.BlockSamplesPerSecond.Max(), 1),
                ["warmup_steps"] = training.WarmupSteps, ["warmup_seconds"] = Math.Round(training.WarmupSeconds, 3),
                ["warmup_settled"] = training.WarmupSettled,
                ["launches_per_step"] = training.LaunchesPerStep,
            }.ToJsonString(Json));
        else
        {
            string spread = training.BlockSamplesPerSecond.Count > 1
                ? $"median of {training.BlockSamplesPerSecond.Count} blocks, {training.BlockSamplesPerSecond.Min().ToString("F0", c)} to {training.BlockSamplesPerSecond.Max().ToString("F0", c)}"
                : "one block";
            context.Out.WriteLine($"training: {training.SamplesPerSecond.ToString("F0", c)} samples/s ({new VaeConfig().Describe()}, batch {batch}, {steps} steps, {spread})");
            if (training.LaunchesPerStep > 0)
                context.Out.WriteLine($"  {training.LaunchesPerStep} kernel launches a step");
            context.Out.WriteLine($"  after {training.WarmupSteps} warm-up steps in {training.WarmupSeconds.ToString("F1", c)} s" +
                (training.WarmupSettled ? "" : " (stopped at the time limit before the step time settled: the machine may be busy)"));
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Our GEMM beside cuBLAS on the same GPU. cuBLAS is a yardstick, not a dependency: without it (no
    /// libcublas on the machine) the line says why and the bench goes on.
    /// </summary>
    private static void CompareWithCuBlas(Accelerator accelerator, int repeats, bool json, CommandContext context)
    {
        var c = CultureInfo.InvariantCulture;
        IReadOnlyList<CuBlasComparisonResult> rows;
        try
        {
            rows = CuBlasComparison.Run(accelerator, repeats);
        }
        catch (DeviceUnavailableException e)
        {
            if (json) context.Out.WriteLine(new JsonObject { ["type"] = "gemm_vs_cublas", ["device"] = accelerator.Specifier, ["error"] = e.Message }.ToJsonString(Json));
            else context.Out.WriteLine($"cuBLAS comparison: unavailable: {e.Message}");
            return;
        }
        if (!json) context.Out.WriteLine($"{"gemm vs cuBLAS",-14} {"op",-4} {"m",5} {"n",5} {"k",5} {"ours GFLOP/s",13} {"cuBLAS GFLOP/s",15} {"ours/cuBLAS",12} {"rel. diff",10}");
        foreach (var r in rows)
        {
            if (json)
                context.Out.WriteLine(new JsonObject
                {
                    ["type"] = "gemm_vs_cublas", ["device"] = accelerator.Specifier, ["shape"] = r.Shape, ["trans_a"] = r.TransA.ToString(),
                    ["trans_b"] = r.TransB.ToString(), ["m"] = r.M, ["n"] = r.N, ["k"] = r.K,
                    ["ours_ms"] = Math.Round(r.OursMilliseconds, 4), ["cublas_ms"] = Math.Round(r.CuBlasMilliseconds, 4),
                    ["ours_gflops"] = Math.Round(r.OursGflops, 2), ["cublas_gflops"] = Math.Round(r.CuBlasGflops, 2),
                    ["ratio"] = Math.Round(r.Ratio, 4), ["relative_difference"] = r.RelativeDifference,
                }.ToJsonString(Json));
            else
                context.Out.WriteLine($"{r.Shape,-14} {r.TransA}{r.TransB,-3} {r.M,5} {r.N,5} {r.K,5} {r.OursGflops.ToString("F1", c),13} " +
                    $"{r.CuBlasGflops.ToString("F1", c),15} {r.Ratio.ToString("F2", c),12} {r.RelativeDifference.ToString("E1", c),10}");
        }
    }

    /// <summary>The all-reduce of a parallel training step, timed on every rank, reported by rank 0.</summary>
    private static int BenchAllReduce(ICommunicator ranks, int repeats, bool json, CommandContext context)
    {
        var c = CultureInfo.InvariantCulture;
        var r = AllReduceBenchmark.Run(ranks, new VaeConfig { Input = 784 }, Math.Max(repeats, 20));
        if (ranks.Rank != 0) return ExitCodes.Ok;
        if (json)
            context.Out.WriteLine(new JsonObject
            {
                ["type"] = "allreduce", ["ranks"] = r.Ranks, ["communicator"] = r.Communicator, ["floats"] = r.Floats,
                ["ms"] = Math.Round(r.MedianMilliseconds, 4), ["ms_min"] = Math.Round(r.MinMilliseconds, 4), ["ms_max"] = Math.Round(r.MaxMilliseconds, 4),
                ["bus_gb_per_s"] = Math.Round(r.BusGigabytesPerSecond, 3),
            }.ToJsonString(Json));
        else
            context.Out.WriteLine($"all-reduce of a step ({r.Floats:N0} floats, {new VaeConfig().Describe()}) over {r.Ranks} ranks, {r.Communicator}: " +
                $"{r.MedianMilliseconds.ToString("F3", c)} ms median ({r.MinMilliseconds.ToString("F3", c)} to {r.MaxMilliseconds.ToString("F3", c)}), " +
                $"{r.BusGigabytesPerSecond.ToString("F2", c)} GB/s bus bandwidth");
        return ExitCodes.Ok;
    }

    /// <summary>The largest --warmup accepted, in seconds.</summary>
    private const float MaxWarmupOption = 600;
}
