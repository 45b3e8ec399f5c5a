using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Training.Benchmarks;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// The training benchmark behind `ilgpu-vae bench`: when its warm-up stops (fed made-up block times,
/// no clock), how it splits and summarises the timed steps, and one short real run on the CPU.
/// </summary>
[TestClass]
public sealed class TrainingBenchmarkTests
{
    private static readonly TrainingBenchmarkSettings Defaults = new();

    [TestMethod]
    public void WarmupGoesOnWhileTheJitStillSpeedsStepsUp()
    {
        // Tier-0 code, then promotions: 10 ms a step falling to 7 ms, then flat; blocks of about 0.2 s.
        var warmup = new WarmupTracker(Defaults);
        Assert.AreEqual(1, warmup.NextBlockSteps, "the first block is one step (it may include compilation)");
        warmup.Add(1, 0.5);
        Assert.AreEqual(1, warmup.NextBlockSteps, "a step slower than a block: blocks of one step");
        foreach (double ms in new[] { 10.0, 9.0, 8.0, 7.6, 7.4, 7.2, 7.1, 7.05, 7.0 })
        {
            Assert.IsFalse(warmup.Done, $"before the {ms} ms block");
            int steps = warmup.NextBlockSteps;
            Assert.AreEqual((int)Math.Ceiling(0.2 / (warmup.SecondsPerStep[^1])), steps, "blocks last about 0.2 s");
            warmup.Add(steps, steps * ms / 1e3);
        }
        // Blocks agree within 3% from 7.6 ms on, but warm-up goes on to the 2 s minimum (0.5 s + ~0.2 s blocks).
        Assert.IsTrue(warmup.Settled);
        Assert.IsGreaterThanOrEqualTo(2.0, warmup.Seconds);
        Assert.IsTrue(warmup.Done);
        Assert.AreEqual(10, warmup.SecondsPerStep.Count);
    }

    [TestMethod]
    public void SettledBlocksBeforeTheMinimumTimeOrStepsDoNotEndTheWarmup()
    {
        var warmup = new WarmupTracker(Defaults);
        warmup.Add(100, 0.5);
        warmup.Add(100, 0.5);
        Assert.IsTrue(warmup.Settled);
        Assert.IsFalse(warmup.Done, "1 s < the 2 s minimum: tier-1 code may still be coming");
        warmup.Add(100, 0.5);
        warmup.Add(100, 0.5);
        Assert.IsTrue(warmup.Done);

        var fewSteps = new WarmupTracker(Defaults with { MinWarmupSeconds = 0, MinWarmupSteps = 50 });
        fewSteps.Add(20, 1);
        fewSteps.Add(20, 1);
        Assert.IsFalse(fewSteps.Done, "40 steps < 50");
        fewSteps.Add(20, 1);
        Assert.IsTrue(fewSteps.Done);
    }

    [TestMethod]
    public void ABlockInWhichTheJitCompiledMoreThanAFewMethodsIsNotSettled()
    {
        var warmup = new WarmupTracker(Defaults with { MinWarmupSeconds = 0, MinWarmupSteps = 0 });
        warmup.Add(40, 0.2, methodsCompiled: 300);
        warmup.Add(40, 0.2, methodsCompiled: 60);
        Assert.IsFalse(warmup.Settled, "same time per step, but tier-up is still going on");
        Assert.IsFalse(warmup.Done);
        warmup.Add(40, 0.2, methodsCompiled: 4);
        Assert.IsTrue(warmup.Settled, "a few stragglers count as quiet");
        Assert.IsTrue(warmup.Done);
        CollectionAssert.AreEqual(new long[] { 300, 60, 4 }, warmup.MethodsCompiled.ToArray());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => warmup.Add(1, 0.1, methodsCompiled: -1));
    }

    [TestMethod]
    public void NoisyBlocksStopAtTheCap()
    {
        var warmup = new WarmupTracker(Defaults with { MaxWarmupSeconds = 5 });
        for (int i = 0; !warmup.Done; i++)
        {
            Assert.IsLessThan(100, i, "the cap ends the warm-up");
            warmup.Add(20, i % 2 == 0 ? 0.2 : 0.3);
        }
        Assert.IsFalse(warmup.Settled);
        Assert.IsGreaterThanOrEqualTo(5.0, warmup.Seconds);
        Assert.IsLessThan(5.3, warmup.Seconds);

        // A minimum above the cap wins: warm-up never ends before it.
        var longer = new WarmupTracker(Defaults with { MinWarmupSeconds = 8, MaxWarmupSeconds = 5 });
        while (!longer.Done) longer.Add(20, 0.25);
        Assert.AreEqual(8.0, longer.Seconds, 1e-9);
    }

    [TestMethod]
    [DataRow(0.0100, 0.0103, true)]
    [DataRow(0.0103, 0.0100, true)]
    [DataRow(0.0100, 0.0104, false)]
    [DataRow(0.0104, 0.0100, false)]
    public void TwoBlocksAgreeWithinTheTolerance(double a, double b, bool agree)
        => Assert.AreEqual(agree, WarmupTracker.Agree(a, b, 0.0301));

    [TestMethod]
    public void TimedStepsSplitIntoNearlyEqualBlocksAndTheMedianIsReported()
    {
        CollectionAssert.AreEqual(new[] { 20, 20, 20, 20, 20 }, TrainingBenchmark.SplitSteps(100, 5).ToArray());
        CollectionAssert.AreEqual(new[] { 21, 21, 20, 20, 20 }, TrainingBenchmark.SplitSteps(102, 5).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 1, 1 }, TrainingBenchmark.SplitSteps(3, 3).ToArray());
        CollectionAssert.AreEqual(new[] { 7 }, TrainingBenchmark.SplitSteps(7, 1).ToArray());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TrainingBenchmark.SplitSteps(2, 3));

        Assert.AreEqual(3.0, TrainingBenchmark.Median([5, 1, 3]));
        Assert.AreEqual(2.5, TrainingBenchmark.Median([4, 1, 3, 2]));
        Assert.AreEqual(9.0, TrainingBenchmark.Median([9]));
        Assert.AreEqual(30.0, TrainingBenchmark.Median([30, 31, 5, 29, 32]), "one slow block does not move the median");
    }

    [TestMethod]
    public void SettingsOutOfRangeAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new TrainingBenchmarkSettings { MinWarmupSeconds = -1 }.Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new TrainingBenchmarkSettings { MinWarmupSeconds = double.NaN }.Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new TrainingBenchmarkSettings { Tolerance = 0 }.Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new TrainingBenchmarkSettings { TimedBlocks = 0 }.Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new TrainingBenchmarkSettings { WarmupBlockSeconds = 0 }.Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new TrainingBenchmarkSettings { QuietJitMethods = -1 }.Validate());
    }

    [TestMethod]
    public void TimesTheRequestedStepsAfterTheWarmupOnTheCpu()
    {
        using var acc = new CpuAccelerator();
        var settings = new TrainingBenchmarkSettings { MinWarmupSeconds = 0, MinWarmupSteps = 10, MaxWarmupSeconds = 1, WarmupBlockSeconds = 0.02 };
        var result = TrainingBenchmark.Run(acc, batch: 16, steps: 7, settings);
        Assert.AreEqual(7, result.Steps);
        Assert.AreEqual(16, result.BatchSize);
        Assert.HasCount(5, result.BlockSamplesPerSecond);
        CollectionAssert.AreEqual(new[] { 2, 2, 1, 1, 1 }, result.BlockSteps.ToArray());
        foreach (double rate in result.BlockSamplesPerSecond) Assert.IsGreaterThan(0.0, rate);
        Assert.AreEqual(TrainingBenchmark.Median(result.BlockSamplesPerSecond), result.SamplesPerSecond);
        Assert.IsGreaterThanOrEqualTo(10, result.WarmupSteps);
        Assert.IsGreaterThan(0.0, result.WarmupSeconds);
        Assert.IsTrue(result.WarmupSettled || result.WarmupSeconds >= 1, "stops settled, or at the cap");
        Assert.HasCount(result.WarmupStepMilliseconds.Count, result.WarmupMethodsCompiled);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TrainingBenchmark.Run(acc, batch: 16, steps: 0));
    }
}
