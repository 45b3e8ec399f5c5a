using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The ILGPU kernels (on ILGPU's CPU accelerator) against the CPU reference on the same inputs and
/// seeds: bit-identical eps and input corruption (both run Kernels/Philox.cs with .NET's MathF), the
/// same score-function gradient, the Random123 answers, the same first-step loss, and the same small
/// model after 50 steps of training on Fashion-MNIST.
/// </summary>
[TestClass]
public sealed class IlgpuCrossBackendTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(128, 20, 42UL, 0u)]
    [DataRow(3, 7, 0xFFFF_FFFF_0000_0001UL, 123u)]
    [DataRow(1, 1, 7UL, 9u)]
    [DataRow(33, 13, 1UL, 4_000_000_000u)]
    public void CpuAndIlgpuCpuDrawBitIdenticalEps(int rows, int latent, ulong seed, uint step)
    {
        var rng = new Random(rows * 31 + latent);
        var stats = Enumerable.Range(0, 2 * rows * latent).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var random = new RandomSource(seed, step, RandomStream.Latent);
        using var ilgpu = IlgpuAccelerator.CreateCpu();
        using var cpu = new CpuAccelerator();
        var (epsIlgpu, zIlgpu) = Sample(ilgpu, stats, rows, latent, random);
        var (epsCpu, zCpu) = Sample(cpu, stats, rows, latent, random);
        for (int e = 0; e < epsCpu.Length; e++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(epsCpu[e]), BitConverter.SingleToInt32Bits(epsIlgpu[e]),
                $"eps[{e}]: cpu {epsCpu[e]:R}, ilgpu-cpu {epsIlgpu[e]:R}");
            Assert.AreEqual(BitConverter.SingleToInt32Bits(zCpu[e]), BitConverter.SingleToInt32Bits(zIlgpu[e]),
                $"z[{e}]: cpu {zCpu[e]:R}, ilgpu-cpu {zIlgpu[e]:R}");
        }
    }

    private static (float[] Eps, float[] Z) Sample(Accelerator acc, float[] stats, int rows, int latent, RandomSource random)
    {
        using var s = acc.Upload<float>(stats);
        using var eps = acc.Allocate<float>(rows * latent + 5);
        using var z = acc.Allocate<float>(rows * latent);
        acc.SampleLatent(s, rows, latent, random, eps.Slice(5, rows * latent), z);
        return (acc.Download(eps.Slice(5, rows * latent)), acc.Download(z.View));
    }

    /// <summary>Corruption runs the CPU backend's own element rules (and its normals and uniforms): the same bits.</summary>
    [TestMethod]
    [DataRow("none", 0u)]
    [DataRow("gaussian:0.35", 0u)]
    [DataRow("gaussian:0.35", 7u)]
    [DataRow("salt-pepper:0.3", 2u)]
    [DataRow("mask:0.5", 0u)]
    [DataRow("downsample:3", 0u)]
    [DataRow("downsample:4", 0u)]
    public void CpuAndIlgpuCpuCorruptBitIdentically(string text, uint offset)
    {
        const int rows = 5, height = 28, width = 27;
        var corruption = Corruption.Parse(text);
        var rng = new Random(61);
        var clean = Enumerable.Range(0, rows * height * width).Select(_ => rng.NextSingle()).ToArray();
        var random = new RandomSource(0xABCDEF, 21, RandomStream.Corruption, offset);
        float[] Run(Accelerator acc)
        {
            using (acc)
            {
                using var x = acc.Upload<float>(clean);
                using var y = acc.Allocate<float>(clean.Length);
                acc.Corrupt(corruption, x, rows, height, width, random, y);
                return acc.Download(y.View);
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        for (int e = 0; e < cpu.Length; e++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(cpu[e]), BitConverter.SingleToInt32Bits(ilgpu[e]),
                $"{text} element {e}: cpu {cpu[e]:R}, ilgpu-cpu {ilgpu[e]:R}");
    }

    /// <summary>The score-function gradient sums the rows in the same order on both: the same bits, with either baseline.</summary>
    [TestMethod]
    [DataRow(ScoreBaseline.None)]
    [DataRow(ScoreBaseline.LeaveOneOut)]
    public void CpuAndIlgpuCpuScoreFunctionGradientsAreBitIdentical(ScoreBaseline baseline)
    {
        const int rows = 300, latent = 9;
        var rng = new Random(62);
        float[] Values(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * rng.NextSingle()).ToArray();
        var stats = Values(2 * rows * latent, -3f, 2f);
        var eps = Values(rows * latent, -3f, 3f);
        var loss = Values(rows, 50f, 300f);
        var kl = Values(rows, 0f, 30f);
        var initial = Values(2 * rows * latent, -1f, 1f);
        float[] Run(Accelerator acc)
        {
            using (acc)
            {
                using var s = acc.Upload<float>(stats);
                using var e = acc.Upload<float>(eps);
                using var l = acc.Upload<float>(loss);
                using var k = acc.Upload<float>(kl);
                using var d = acc.Upload<float>(initial);
                acc.ScoreFunctionBackward(s, e, l, k, 0.7f, baseline, rows, latent, d);
                return acc.Download(d.View);
            }
        }
        var cpu = Run(new CpuAccelerator());
        var ilgpu = Run(IlgpuAccelerator.CreateCpu());
        for (int i = 0; i < cpu.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(cpu[i]), BitConverter.SingleToInt32Bits(ilgpu[i]),
                $"{baseline} dstats[{i}]: cpu {cpu[i]:R}, ilgpu-cpu {ilgpu[i]:R}");
    }

    [TestMethod]
    public void PhiloxBlocksMatchTheRandom123KnownAnswers()
    {
        uint[] counters = [0, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
        uint[] keys = [0, 0, 0xffffffff, 0xffffffff, 0xa4093822, 0x299f31d0];
        uint[] expected = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
            0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1];
        using var acc = IlgpuAccelerator.CreateCpu();
        using var c = acc.Upload<uint>(counters);
        using var k = acc.Upload<uint>(keys);
        using var o = acc.Allocate<uint>(12);
        acc.PhiloxBlocks(c, k, o);
        CollectionAssert.AreEqual(expected, acc.Download(o.View));
        Assert.ThrowsExactly<ArgumentException>(() => acc.PhiloxBlocks(c, k.Slice(0, 4), o));
    }

    [TestMethod]
    public void TrainingAgreesWithTheCpuAcceleratorOnTheFirstStepAndAfter50Steps()
    {
        var data = FashionMnist.Full;
        var config = new VaeConfig { Hidden = [64], Latent = 8 };
        var train = FashionMnist.First(data.Train, 50 * 32);
        var test = FashionMnist.First(data.Test, 200);

        var (cpuFirst, cpuAfter, cpuTest) = Train(new CpuAccelerator(), config, train, test);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (ilgpuFirst, ilgpuAfter, ilgpuTest) = Train(IlgpuAccelerator.CreateCpu(), config, train, test);
        TestContext.WriteLine($"ilgpu-cpu: 1 + 50 steps and two evaluations in {clock.Elapsed.TotalSeconds:F1} s");
        TestContext.WriteLine($"first step: cpu {cpuFirst:R}, ilgpu-cpu {ilgpuFirst:R}; after 50 steps: train {cpuAfter:R} / {ilgpuAfter:R}, test {cpuTest:R} / {ilgpuTest:R}");

        Assert.AreEqual(cpuFirst, ilgpuFirst, 1e-5 * Math.Abs(cpuFirst), "first-step loss");
        Assert.AreEqual(cpuAfter, ilgpuAfter, 1e-2 * Math.Abs(cpuAfter), "mean training loss over 50 steps");
        Assert.AreEqual(cpuTest, ilgpuTest, 1e-2 * Math.Abs(cpuTest), "test loss after 50 steps");
    }

    /// <summary>The loss of step 1 alone, then (from the same start) the mean loss of 50 steps and the test loss after them.</summary>
    private static (double First, double After, double Test) Train(Accelerator acc, VaeConfig config, IdxImages train, IdxImages test)
    {
        using (acc)
        {
            var once = new TrainingOptions { Epochs = 1, BatchSize = 32, MaxSteps = 1, Binarize = true, Seed = 5, EvalBatch = 100 };
            double first;
            using (var trainer = new VaeTrainer(acc, config, once, train, test)) first = trainer.TrainEpoch(1).TrainLoss;
            var fifty = once with { MaxSteps = 50 };
            using var full = new VaeTrainer(acc, config, fifty, train, test);
            var result = full.TrainEpoch(1);
            return (first, result.TrainLoss, result.TestLoss!.Value);
        }
    }
}
