using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// Every op of a training step on the ILGPU kernels (run by ILGPU's CPU accelerator) beside the CPU
/// backend on the same inputs, through views at non-zero offsets (how the flat parameter buffer is
/// passed). The conformance suite holds each backend to a double-precision reference; this holds the
/// two backends to each other, closer than that reference's tolerances, so a run on a GPU and one on
/// the CPU follow each other step by step. Shapes stay small: ILGPU's CPU accelerator is slow by design.
/// </summary>
[TestClass]
public sealed class IlgpuOpsAgreementTests
{
    private IlgpuAccelerator _ilgpu = null!;
    private CpuAccelerator _cpu = null!;

    [TestInitialize]
    public void Open()
    {
        _ilgpu = IlgpuAccelerator.CreateCpu();
        _cpu = new CpuAccelerator();
    }

    [TestCleanup]
    public void Close()
    {
        _ilgpu?.Dispose();
        _cpu?.Dispose();
    }

    [TestMethod]
    [DataRow(Likelihood.Bernoulli, 1f, 1f)]
    [DataRow(Likelihood.Gaussian, 0.5f, 0.3f)]
    public void TheFusedLossOfARandomBatchAgrees(Likelihood likelihood, float beta, float sigma)
    {
        const int rows = 32, features = 784, latent = 20;
        var logits = Random(rows * features, seed: 1, lo: -6f, hi: 6f);
        var x = Random(rows * features, seed: 2, lo: 0f, hi: 1f);
        var stats = Random(2 * rows * latent, seed: 3, lo: -2f, hi: 2f);
        var settings = new LossSettings(likelihood, beta, sigma);
        var ilgpu = Loss(_ilgpu, settings, logits, x, stats, rows, features, latent);
        var cpu = Loss(_cpu, settings, logits, x, stats, rows, features, latent);
        AssertRelative(cpu.PerSample, ilgpu.PerSample, 1e-5, "per-sample loss");
        AssertRelative(cpu.Kl, ilgpu.Kl, 1e-5, "per-sample KL");
        AssertClose(cpu.DLogits, ilgpu.DLogits, 1e-6, "dlogits");
        AssertClose(cpu.DStats, ilgpu.DStats, 1e-6, "dstats");
        AssertRelative([cpu.PerSample.Sum()], [ilgpu.PerSample.Sum()], 1e-5, "batch loss");
    }

    [TestMethod]
    public void TheBernoulliTermIsSoftplusToFloatPrecisionOnBothBackends()
    {
        // One feature a sample, target 0 and a zero KL: each per-sample loss is exactly softplus(logit),
        // which isolates the kernel's log(1 + exp(-|l|)) from every sum. Both backends form 1 + e in
        // float, so an e below half an ulp of 1 (logits under about -16.6) is lost: an absolute error
        // of at most 6e-8 a feature, which the tolerance allows; the sigmoid keeps its relative accuracy.
        const int rows = 401;
        var logits = Enumerable.Range(0, rows).Select(i => -20f + 40f * i / (rows - 1)).ToArray();
        var ilgpu = Loss(_ilgpu, new LossSettings(Likelihood.Bernoulli), logits, new float[rows], new float[2 * rows], rows, 1, 1);
        var cpu = Loss(_cpu, new LossSettings(Likelihood.Bernoulli), logits, new float[rows], new float[2 * rows], rows, 1, 1);
        for (int i = 0; i < rows; i++)
        {
            double l = logits[i], softplus = Math.Max(l, 0) + Math.Log(1 + Math.Exp(-Math.Abs(l)));
            Assert.AreEqual(softplus, ilgpu.PerSample[i], 5e-7 * softplus + 6e-8, $"softplus({l:R})");
            Assert.AreEqual(cpu.PerSample[i], ilgpu.PerSample[i], 2.5e-7 * cpu.PerSample[i], $"softplus({l:R}): cpu and ilgpu-cpu");
            double sigmoid = 1 / (1 + Math.Exp(-l));
            Assert.AreEqual(sigmoid, ilgpu.DLogits[i], 2e-7 * Math.Max(sigmoid, 1e-30) + 1e-38, $"sigmoid({l:R})");
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
    public void ATrainingStepsOtherOpsAgree()
    {
        const int rows = 37, cols = 45, samples = 50, features = 30;
        // Activations forward and backward.
        var pre = Random(rows * cols, seed: 9, lo: -5f, hi: 5f);
        var dy = Random(rows * cols, seed: 10);
        foreach (Activation activation in Enum.GetValues<Activation>())
        {
            var y = Both(acc => { using var x = acc.Upload<float>(pre); using var o = acc.Allocate<float>(pre.Length); acc.ActivationForward(activation, x, o, 0.1f); return acc.Download(o.View); });
            AssertClose(y.Cpu, y.Ilgpu, 1e-6, $"{activation} forward");
            var dx = Both(acc => { using var yy = acc.Upload<float>(y.Cpu); using var d = acc.Upload<float>(dy); acc.ActivationBackward(activation, yy, d, d, 0.1f); return acc.Download(d.View); });
            AssertClose(dx.Cpu, dx.Ilgpu, 1e-6, $"{activation} backward (in place)");
        }
        // Bias gradient.
        var db = Both(acc => { using var d = acc.Upload<float>(dy); using var o = acc.Allocate<float>(cols); acc.BiasGradient(d, rows, cols, o); return acc.Download(o.View); });
        AssertClose(db.Cpu, db.Ilgpu, 1e-5, "bias gradient");
        // Reparameterisation backward accumulates.
        var stats = Random(2 * rows * cols, seed: 11);
        var eps = Random(rows * cols, seed: 12);
        var ds = Both(acc =>
        {
            using var s = acc.Upload<float>(stats); using var e = acc.Upload<float>(eps); using var dz = acc.Upload<float>(dy);
            using var d = acc.Upload<float>(Random(2 * rows * cols, seed: 13));
            acc.SampleLatentBackward(s, e, dz, rows, cols, d);
            return acc.Download(d.View);
        });
        AssertClose(ds.Cpu, ds.Ilgpu, 1e-6, "sample backward");
        // Adam and AdamW, a few steps.
        foreach (var settings in new[] { AdamSettings.Default, new AdamSettings(1e-2f, 0.8f, 0.99f, 1e-6f, 0.1f, Decoupled: true), new AdamSettings(1e-3f, WeightDecay: 0.05f) })
        {
            var p = Both(acc =>
            {
                using var ps = acc.Upload<float>(Random(1000, seed: 14));
                using var g = acc.Upload<float>(Random(1000, seed: 15));
                using var m = acc.Allocate<float>(1000); using var v = acc.Allocate<float>(1000);
                acc.Fill(m, 0f); acc.Fill(v, 0f);
                for (int step = 1; step <= 3; step++) acc.Adam(settings, step, ps.Slice(10, 990), g.Slice(10, 990), m.Slice(0, 990), v.Slice(5, 990));
                return acc.Download(ps.View);
            });
            AssertClose(p.Cpu, p.Ilgpu, 1e-6, $"adam {settings}");
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
            CollectionAssert.AreEqual(batch.Cpu, batch.Ilgpu, $"gather binarize={binarize}");
        }
        // Reduce and fill.
        var big = Random(100_003, seed: 17);
        var sum = Both(acc => { using var v = acc.Upload<float>(big); using var r = acc.Allocate<float>(3); acc.Fill(r, 9f); acc.ReduceSum(v.Slice(3, 100_000), r.Slice(1, 1)); return acc.Download(r.View); });
        AssertClose(sum.Cpu, sum.Ilgpu, 1e-5, "reduce sum (and fill around it)");
    }

    private (float[] Cpu, float[] Ilgpu) Both(Func<Accelerator, float[]> run) => (run(_cpu), run(_ilgpu));

    /// <summary>Deterministic test data in [lo, hi).</summary>
    private static float[] Random(int length, int seed, float lo = -1f, float hi = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = lo + (hi - lo) * random.NextSingle();
        return values;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i}: cpu {expected[i]:R}, ilgpu-cpu {actual[i]:R}");
    }

    private static void AssertRelative(float[] expected, float[] actual, double relative, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= relative * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i}: cpu {expected[i]:R}, ilgpu-cpu {actual[i]:R} (more than {relative:G2} relative)");
    }
}
