using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.OpenCL;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// The OpenCL backend against the CPU reference on the same inputs and seeds: the same eps from Philox,
/// the same fused loss to 1e-5 relative, and every op of a training step side by side, through views at
/// non-zero offsets (how the flat parameter buffer is passed).
/// </summary>
[TestClass]
public sealed class OpenCLCrossBackendTests
{
    private OpenCLAccelerator _cl = null!;
    private CpuAccelerator _cpu = null!;

    [TestInitialize]
    public void Open()
    {
        _cl = OpenCLTestDevice.Open();
        _cpu = new CpuAccelerator();
    }

    [TestCleanup]
    public void Close()
    {
        _cl?.Dispose();
        _cpu?.Dispose();
    }

    [TestMethod]
    [DataRow(128, 20, 42UL, 0u)]
    [DataRow(3, 7, 0xFFFF_FFFF_0000_0001UL, 123u)]
    [DataRow(1, 1, 7UL, 9u)]
    public void TheSameSeedDrawsTheSameEps(int rows, int latent, ulong seed, uint step)
    {
        var stats = OpenCLTestDevice.Random(2 * rows * latent, seed: rows + latent, lo: -3f, hi: 3f);
        var random = new RandomSource(seed, step, RandomStream.Latent);
        var (epsCl, zCl) = Sample(_cl, stats, rows, latent, random);
        var (epsCpu, zCpu) = Sample(_cpu, stats, rows, latent, random);
        for (int e = 0; e < epsCpu.Length; e++)
        {
            Assert.AreEqual(epsCpu[e], epsCl[e], 1e-6 * Math.Max(1, Math.Abs(epsCpu[e])), $"eps[{e}]");
            Assert.AreEqual(zCpu[e], zCl[e], 2e-6 * Math.Max(1, Math.Abs(zCpu[e])), $"z[{e}]");
        }
        // A different step is a different draw.
        var (other, _) = Sample(_cl, stats, rows, latent, random with { Step = step + 1 });
        Assert.IsFalse(other.SequenceEqual(epsCl));
    }

    private static (float[] Eps, float[] Z) Sample(Accelerator acc, float[] stats, int rows, int latent, RandomSource random)
    {
        using var s = acc.Upload<float>(stats);
        using var eps = acc.Allocate<float>(rows * latent + 5);
        using var z = acc.Allocate<float>(rows * latent);
        acc.SampleLatent(s, rows, latent, random, eps.Slice(5, rows * latent), z);
        return (acc.Download(eps.Slice(5, rows * latent)), acc.Download(z.View));
    }

    [TestMethod]
    public void PhiloxBlocksMatchTheRandom123KnownAnswers()
    {
        uint[] counters = [0, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
        uint[] keys = [0, 0, 0xffffffff, 0xffffffff, 0xa4093822, 0x299f31d0];
        uint[] expected = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
            0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1];
        using var c = _cl.Upload<uint>(counters);
        using var k = _cl.Upload<uint>(keys);
        using var o = _cl.Allocate<uint>(12);
        _cl.PhiloxBlocks(c, k, o);
        CollectionAssert.AreEqual(expected, _cl.Download(o.View));
        Assert.ThrowsExactly<ArgumentException>(() => _cl.PhiloxBlocks(c, k.Slice(0, 4), o));
    }

    [TestMethod]
    [DataRow(Likelihood.Bernoulli, 1f, 1f)]
    [DataRow(Likelihood.Gaussian, 0.5f, 0.3f)]
    public void TheFusedLossOfARandomBatchAgrees(Likelihood likelihood, float beta, float sigma)
    {
        const int rows = 128, features = 784, latent = 20;
        var logits = OpenCLTestDevice.Random(rows * features, seed: 1, lo: -6f, hi: 6f);
        var x = OpenCLTestDevice.Random(rows * features, seed: 2, lo: 0f, hi: 1f);
        var stats = OpenCLTestDevice.Random(2 * rows * latent, seed: 3, lo: -2f, hi: 2f);
        var settings = new LossSettings(likelihood, beta, sigma);
        var cl = Loss(_cl, settings, logits, x, stats, rows, features, latent);
        var cpu = Loss(_cpu, settings, logits, x, stats, rows, features, latent);
        AssertRelative(cpu.PerSample, cl.PerSample, 1e-5, "per-sample loss");
        AssertRelative(cpu.Kl, cl.Kl, 1e-5, "per-sample KL");
        AssertClose(cpu.DLogits, cl.DLogits, 1e-6, "dlogits");
        AssertClose(cpu.DStats, cl.DStats, 1e-6, "dstats");
        AssertRelative([cpu.PerSample.Sum()], [cl.PerSample.Sum()], 1e-5, "batch loss");
    }

    [TestMethod]
    public void TheBernoulliTermIsSoftplusToAFewUlps()
    {
        // One feature a sample, target 0 and a zero KL: each per-sample loss is exactly softplus(logit),
        // which isolates the kernel's log(1 + exp(-|l|)) series from every sum.
        const int rows = 4001;
        var logits = Enumerable.Range(0, rows).Select(i => -20f + 40f * i / (rows - 1)).ToArray();
        var result = Loss(_cl, new LossSettings(Likelihood.Bernoulli), logits, new float[rows], new float[2 * rows], rows, 1, 1);
        for (int i = 0; i < rows; i++)
        {
            double l = logits[i], softplus = Math.Max(l, 0) + Math.Log(1 + Math.Exp(-Math.Abs(l)));
            Assert.AreEqual(softplus, result.PerSample[i], 5e-7 * softplus, $"softplus({l:R})");
            double sigmoid = 1 / (1 + Math.Exp(-l));
            Assert.AreEqual(sigmoid, result.DLogits[i], 2e-7 * Math.Max(sigmoid, 1e-30) + 1e-38, $"sigmoid({l:R})");
        }
    }

    private static (float[] PerSample, float[] Kl, float[] DLogits, float[] DStats) Loss(Accelerator acc, LossSettings settings,
        float[] logits, float[] x, float[] stats, int rows, int features, int latent)
    {
        using var l = acc.Upload<float>(logits);
        using var xs = acc.Upload<float>(x);
        using var s = acc.Upload<float>(stats);
        using var loss = acc.Allocate<float>(rows + 1);
        using var kl = acc.Allocate<float>(rows);
        using var dl = acc.Allocate<float>(rows * features);
        using var ds = acc.Allocate<float>(2 * rows * latent);
        acc.VaeLoss(settings, l, xs, s, rows, features, latent, loss.Slice(1, rows), dl, ds, kl);
        return (acc.Download(loss.Slice(1, rows)), acc.Download(kl.View), acc.Download(dl.View), acc.Download(ds.View));
    }

    [TestMethod]
    [DataRow("Tiled")]
    [DataRow("Direct")]
    [DataRow("Blocked")]
    [DataRow("BlockedDot")]
    public void EveryGemmKernelMatchesTheCpuOnRaggedShapesAndOffsets(string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        _cl.GemmChoice = kernel;
        (int M, int N, int K)[] shapes = [(1, 1, 1), (5, 3, 2), (9, 8, 1), (7, 4, 8), (65, 63, 17), (130, 67, 33), (31, 129, 100), (13, 35, 41)];
        foreach (var (m, n, k) in shapes)
        foreach (var ta in new[] { Transpose.N, Transpose.T })
        foreach (var tb in new[] { Transpose.N, Transpose.T })
        {
            var a = OpenCLTestDevice.Random(m * k, seed: m + k);
            var b = OpenCLTestDevice.Random(k * n, seed: n + 3 * k);
            var c = OpenCLTestDevice.Random(m * n, seed: m * n);
            var bias = OpenCLTestDevice.Random(n, seed: n);
            var epilogue = (Acc: Activation.LeakyRelu, Slope: 0.2f);
            var cl = Gemm(_cl, ta, tb, m, n, k, a, b, c, bias, epilogue.Acc, epilogue.Slope);
            var cpu = Gemm(_cpu, ta, tb, m, n, k, a, b, c, bias, epilogue.Acc, epilogue.Slope);
            AssertClose(cpu, cl, 2e-6 * k, $"{kernel} gemm {ta}{tb} {m}x{n}x{k}");
        }
    }

    private static float[] Gemm(Accelerator acc, Transpose ta, Transpose tb, int m, int n, int k,
        float[] a, float[] b, float[] c, float[] bias, Activation activation, float slope)
    {
        // Each operand sits at an offset inside a larger buffer, like a named view of the parameter buffer.
        using var pool = acc.Allocate<float>(3 + a.Length + 5 + b.Length + 7 + c.Length + 11 + bias.Length);
        var av = pool.Slice(3, a.Length);
        var bv = pool.Slice(3 + a.Length + 5, b.Length);
        var cv = pool.Slice(3 + a.Length + 5 + b.Length + 7, c.Length);
        var biasView = pool.Slice(pool.Length - bias.Length, bias.Length);
        acc.CopyFromHost<float>(a, av); acc.CopyFromHost<float>(b, bv); acc.CopyFromHost<float>(c, cv); acc.CopyFromHost<float>(bias, biasView);
        acc.Gemm(ta, tb, m, n, k, 0.75f, av, bv, 0.5f, cv, Epilogue.WithBias(biasView, activation, slope));
        return acc.Download(cv);
    }

    [TestMethod]
    public void ATrainingStepsOtherOpsAgree()
    {
        const int rows = 37, cols = 45, samples = 50, features = 30;
        // Activations forward and backward.
        var pre = OpenCLTestDevice.Random(rows * cols, seed: 9, lo: -5f, hi: 5f);
        var dy = OpenCLTestDevice.Random(rows * cols, seed: 10);
        foreach (Activation activation in Enum.GetValues<Activation>())
        {
            var y = Both(acc => { using var x = acc.Upload<float>(pre); using var o = acc.Allocate<float>(pre.Length); acc.ActivationForward(activation, x, o, 0.1f); return acc.Download(o.View); });
            AssertClose(y.Cpu, y.Cl, 1e-6, $"{activation} forward");
            var dx = Both(acc => { using var yy = acc.Upload<float>(y.Cpu); using var d = acc.Upload<float>(dy); acc.ActivationBackward(activation, yy, d, d, 0.1f); return acc.Download(d.View); });
            AssertClose(dx.Cpu, dx.Cl, 1e-6, $"{activation} backward (in place)");
        }
        // Bias gradient.
        var db = Both(acc => { using var d = acc.Upload<float>(dy); using var o = acc.Allocate<float>(cols); acc.BiasGradient(d, rows, cols, o); return acc.Download(o.View); });
        AssertClose(db.Cpu, db.Cl, 1e-5, "bias gradient");
        // Reparameterisation backward accumulates.
        var stats = OpenCLTestDevice.Random(2 * rows * cols, seed: 11);
        var eps = OpenCLTestDevice.Random(rows * cols, seed: 12);
        var ds = Both(acc =>
        {
            using var s = acc.Upload<float>(stats); using var e = acc.Upload<float>(eps); using var dz = acc.Upload<float>(dy);
            using var d = acc.Upload<float>(OpenCLTestDevice.Random(2 * rows * cols, seed: 13));
            acc.SampleLatentBackward(s, e, dz, rows, cols, d);
            return acc.Download(d.View);
        });
        AssertClose(ds.Cpu, ds.Cl, 1e-6, "sample backward");
        // Adam and AdamW, a few steps.
        foreach (var settings in new[] { AdamSettings.Default, new AdamSettings(1e-2f, 0.8f, 0.99f, 1e-6f, 0.1f, Decoupled: true), new AdamSettings(1e-3f, WeightDecay: 0.05f) })
        {
            var p = Both(acc =>
            {
                using var ps = acc.Upload<float>(OpenCLTestDevice.Random(1000, seed: 14));
                using var g = acc.Upload<float>(OpenCLTestDevice.Random(1000, seed: 15));
                using var m = acc.Allocate<float>(1000); using var v = acc.Allocate<float>(1000);
                acc.Fill(m, 0f); acc.Fill(v, 0f);
                for (int step = 1; step <= 3; step++) acc.Adam(settings, step, ps.Slice(10, 990), g.Slice(10, 990), m.Slice(0, 990), v.Slice(5, 990));
                return acc.Download(ps.View);
            });
            AssertClose(p.Cpu, p.Cl, 1e-6, $"adam {settings}");
        }
        // Gather with and without binarisation: exactly equal (same float arithmetic, same Philox words).
        var data = new byte[samples * features];
        new Random(16).NextBytes(data);
        int[] indices = [49, 0, 7, 7, 23, 31];
        foreach (bool binarize in new[] { false, true })
        {
            var batch = Both(acc =>
            {
                using var d = acc.Upload<byte>(data); using var ix = acc.Upload<int>(indices); using var o = acc.Allocate<float>(indices.Length * features);
                acc.GatherBatch(d, features, ix, indices.Length, o, binarize, new RandomSource(77, 3, RandomStream.Binarize));
                return acc.Download(o.View);
            });
            CollectionAssert.AreEqual(batch.Cpu, batch.Cl, $"gather binarize={binarize}");
        }
        // Reduce and fill.
        var big = OpenCLTestDevice.Random(100_003, seed: 17);
        var sum = Both(acc => { using var v = acc.Upload<float>(big); using var r = acc.Allocate<float>(3); acc.Fill(r, 9f); acc.ReduceSum(v.Slice(3, 100_000), r.Slice(1, 1)); return acc.Download(r.View); });
        AssertClose(sum.Cpu, sum.Cl, 1e-5, "reduce sum (and fill around it)");
    }

    private (float[] Cpu, float[] Cl) Both(Func<Accelerator, float[]> run) => (run(_cpu), run(_cl));

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i}: cpu {expected[i]:R}, opencl {actual[i]:R}");
    }

    private static void AssertRelative(float[] expected, float[] actual, double relative, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= relative * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i}: cpu {expected[i]:R}, opencl {actual[i]:R} (more than {relative:G2} relative)");
    }
}
