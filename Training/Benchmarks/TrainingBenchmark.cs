using System.Diagnostics;
using System.Runtime;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Training.Benchmarks;

/// <summary>How long the training benchmark warms up and how it splits the timed steps.</summary>
public sealed record TrainingBenchmarkSettings
{
    /// <summary>
    /// Warm-up lasts at least this long. .NET's tiered JIT promotes the hot methods (tier 0, then an
    /// instrumented tier, then tier 1 with dynamic PGO and OSR) only after a few hundred calls and a
    /// background compile; steps timed before that read 25 to 40% below a warm epoch.
    /// </summary>
    public double MinWarmupSeconds { get; init; } = 2;

    /// <summary>Warm-up runs at least this many steps, however fast they are.</summary>
    public int MinWarmupSteps { get; init; } = 50;

    /// <summary>Warm-up stops here even if the step time has not settled (a noisy machine); never before MinWarmupSeconds.</summary>
    public double MaxWarmupSeconds { get; init; } = 20;

    /// <summary>The step time has settled when two consecutive warm-up blocks differ by less than this fraction.</summary>
    public double Tolerance { get; init; } = 0.03;

    /// <summary>
    /// A block in which the JIT compiled at most this many methods counts as quiet. Tier-up comes in
    /// bursts of tens to hundreds of methods; a few stragglers (the benchmark's own once-a-block code
    /// reaching its call count) say nothing about the training step.
    /// </summary>
    public int QuietJitMethods { get; init; } = 4;

    /// <summary>Target length of one warm-up block: long enough to average out timer and scheduler noise.</summary>
    public double WarmupBlockSeconds { get; init; } = 0.2;

    /// <summary>The timed steps are split into this many blocks (fewer when there are fewer steps); the median block is reported.</summary>
    public int TimedBlocks { get; init; } = 5;

    public TrainingBenchmarkSettings Validate()
    {
        if (!(MinWarmupSeconds >= 0) || double.IsInfinity(MinWarmupSeconds)) throw new ArgumentException($"minimum warm-up must be >= 0 s (got {MinWarmupSeconds})");
        if (MinWarmupSteps < 0) throw new ArgumentException($"minimum warm-up steps must be >= 0 (got {MinWarmupSteps})");
        if (!(MaxWarmupSeconds >= 0) || double.IsInfinity(MaxWarmupSeconds)) throw new ArgumentException($"maximum warm-up must be >= 0 s (got {MaxWarmupSeconds})");
        if (!(Tolerance > 0)) throw new ArgumentException($"tolerance must be > 0 (got {Tolerance})");
        if (!(WarmupBlockSeconds > 0)) throw new ArgumentException($"warm-up block must be > 0 s (got {WarmupBlockSeconds})");
        if (QuietJitMethods < 0) throw new ArgumentException($"quiet JIT methods must be >= 0 (got {QuietJitMethods})");
        if (TimedBlocks < 1) throw new ArgumentException($"timed blocks must be >= 1 (got {TimedBlocks})");
        return this;
    }
}

/// <summary>
/// Training throughput: the median of the timed blocks' samples/s, the blocks themselves, and how the
/// warm-up went (WarmupSettled is false when it stopped at the time cap, before the step time settled).
/// </summary>
public sealed record TrainingBenchmarkResult(
    int BatchSize, int Steps, double SamplesPerSecond, IReadOnlyList<double> BlockSamplesPerSecond,
    int WarmupSteps, double WarmupSeconds, bool WarmupSettled, IReadOnlyList<double> WarmupStepMilliseconds)
{
    /// <summary>Steps per timed block, in order (they sum to Steps).</summary>
    public IReadOnlyList<int> BlockSteps => TrainingBenchmark.SplitSteps(Steps, BlockSamplesPerSecond.Count);

    /// <summary>Methods the JIT compiled during each warm-up block (all threads, tier-up recompilations included).</summary>
    public IReadOnlyList<long> WarmupMethodsCompiled { get; init; } = [];

    /// <summary>Kernel launches one training step enqueues (0 on the CPU accelerator, which runs ops in place).</summary>
    public long LaunchesPerStep { get; init; }
}

/// <summary>
/// Times the real training step (gather, forward, loss, backward, Adam: <see cref="VaeTrainer.TrainStep"/>)
/// of the default VAE on synthetic images held on the device. It warms up in blocks until the JIT
/// has gone quiet and the per-step time settles (see <see cref="WarmupTracker"/>), then times the requested steps in a few
/// blocks, each ended by Synchronize so asynchronous backends are timed to completion, and reports
/// the median block: a warm epoch's rate, robust to a block that other load slowed down.
/// </summary>
public static class TrainingBenchmark
{
    public static TrainingBenchmarkResult Run(Accelerator accelerator, int batch, int steps, TrainingBenchmarkSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        settings = (settings ?? new TrainingBenchmarkSettings()).Validate();

        // batch * steps synthetic images, one distinct batch for each timed step; warm-up steps wrap around.
        var config = new VaeConfig();
        int count = checked(batch * steps);
        var pixels = new byte[(long)count * config.Input];
        new Random(1).NextBytes(pixels);
        var train = new IdxImages(count, config.ImageHeight, config.ImageWidth, pixels);
        var test = new IdxImages(1, config.ImageHeight, config.ImageWidth, pixels.AsSpan(0, config.Input).ToArray());
        var options = new TrainingOptions { Epochs = 1, BatchSize = batch, EvalBatch = 1, ProgressEvery = int.MaxValue };
        using var trainer = new VaeTrainer(accelerator, config, options, train, test);
        using var order = accelerator.Upload<int>(EpochShuffle.Permutation(count, options.Seed, 1));

        long taken = 0;
        // A block's time, and how many methods the JIT compiled meanwhile (on any thread: tier-up is in the background).
        (double Seconds, long MethodsCompiled) TimeBlock(int blockSteps)
        {
            long compiled = JitInfo.GetCompiledMethodCount();
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < blockSteps; i++, taken++)
            {
                int slot = (int)(taken % steps);
                trainer.TrainStep(order.Slice(slot * batch, batch), batch, slot);
            }
            accelerator.Synchronize();
            return (Stopwatch.GetElapsedTime(start).TotalSeconds, JitInfo.GetCompiledMethodCount() - compiled);
        }

        var warmup = new WarmupTracker(settings);
        while (!warmup.Done)
        {
            int blockSteps = warmup.NextBlockSteps;
            var (seconds, methodsCompiled) = TimeBlock(blockSteps);
            warmup.Add(blockSteps, seconds, methodsCompiled);
        }

        var blockSizes = SplitSteps(steps, Math.Min(settings.TimedBlocks, steps));
        var rates = new double[blockSizes.Count];
        var counted = accelerator.Counters;
        for (int b = 0; b < rates.Length; b++)
            rates[b] = (double)blockSizes[b] * batch / TimeBlock(blockSizes[b]).Seconds;
        long launchesPerStep = (accelerator.Counters - counted).Launches / steps;
        return new TrainingBenchmarkResult(batch, steps, Median(rates), rates, warmup.Steps, warmup.Seconds, warmup.Settled,
            warmup.SecondsPerStep.Select(s => s * 1e3).ToArray())
        {
            WarmupMethodsCompiled = warmup.MethodsCompiled, LaunchesPerStep = launchesPerStep,
        };
    }

    /// <summary>Splits steps into blocks as equal as can be (the first blocks take the remainder).</summary>
    public static IReadOnlyList<int> SplitSteps(int steps, int blocks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, blocks);
        var sizes = new int[blocks];
        for (int b = 0; b < blocks; b++) sizes[b] = steps / blocks + (b < steps % blocks ? 1 : 0);
        return sizes;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

/// <summary>
/// Decides when warm-up is over, from the timed warm-up blocks alone (no clock of its own, so tests
/// feed it any sequence). Settled: the last two blocks' per-step times differ by less than Tolerance
/// and the JIT was quiet during the last block (at most QuietJitMethods methods compiled). Done when
/// settled with MinWarmupSeconds and MinWarmupSteps reached, or at the time cap
/// (max(MaxWarmupSeconds, MinWarmupSeconds)). Each block is sized from the previous one's step time
/// to last about WarmupBlockSeconds; the first block is one step (it may include kernel compilation).
/// </summary>
public sealed class WarmupTracker(TrainingBenchmarkSettings settings)
{
    private const int MaxBlockSteps = 1 << 20;
    private readonly List<double> _secondsPerStep = [];
    private readonly List<long> _methodsCompiled = [];

    public int Steps { get; private set; }
    public double Seconds { get; private set; }
    public IReadOnlyList<double> SecondsPerStep => _secondsPerStep;
    public IReadOnlyList<long> MethodsCompiled => _methodsCompiled;

    public bool Settled => _secondsPerStep.Count >= 2
        && Agree(_secondsPerStep[^2], _secondsPerStep[^1], settings.Tolerance)
        && _methodsCompiled[^1] <= settings.QuietJitMethods;

    public bool Done =>
        Seconds >= Math.Max(settings.MaxWarmupSeconds, settings.MinWarmupSeconds)
        || (Settled && Seconds >= settings.MinWarmupSeconds && Steps >= settings.MinWarmupSteps);

    public int NextBlockSteps => _secondsPerStep.Count == 0 ? 1
        : (int)Math.Clamp(Math.Ceiling(settings.WarmupBlockSeconds / Math.Max(_secondsPerStep[^1], 1e-9)), 1, MaxBlockSteps);

    /// <summary>Records a block: its steps, its time, and how many methods the JIT compiled meanwhile.</summary>
    public void Add(int blockSteps, double blockSeconds, long methodsCompiled = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSteps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(blockSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(methodsCompiled);
        _secondsPerStep.Add(blockSeconds / blockSteps);
        _methodsCompiled.Add(methodsCompiled);
        Steps += blockSteps;
        Seconds += blockSeconds;
    }

    /// <summary>Two per-step times agree when they differ by less than tolerance times the smaller.</summary>
    public static bool Agree(double a, double b, double tolerance) => Math.Abs(a - b) < tolerance * Math.Min(a, b);
}
