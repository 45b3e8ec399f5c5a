using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Cpu;

/// <summary>
/// The CPU accelerator splits work statically and never reduces across workers, so every op gives the
/// same bits whatever the thread count: a run is reproducible on any machine with the same SIMD path.
/// </summary>
[TestClass]
public sealed class CpuDeterminismTests
{
    private static readonly int[] ThreadCounts = [1, 2, 3, 7];

    [TestMethod]
    [DataRow(128, 400, 784, Transpose.N, Transpose.T)]
    [DataRow(400, 784, 128, Transpose.T, Transpose.N)]
    [DataRow(128, 20, 400, Transpose.N, Transpose.N)]
    [DataRow(37, 53, 611, Transpose.T, Transpose.T)]
    [DataRow(128, 40, 400, Transpose.N, Transpose.T)]
    [DataRow(400, 20, 128, Transpose.T, Transpose.N)]
    [DataRow(128, 400, 20, Transpose.N, Transpose.T)]
    public void GemmIsBitIdenticalForAnyThreadCount(int m, int n, int k, Transpose ta, Transpose tb)
    {
        var a = Random(1, m * k); var b = Random(2, k * n); var c = Random(3, m * n); var bias = Random(4, n);
        AssertSameForEveryThreadCount(acc =>
        {
            using var da = acc.Upload<float>(a); using var db = acc.Upload<float>(b);
            using var dc = acc.Upload<float>(c); using var dbias = acc.Upload<float>(bias);
            acc.Gemm(ta, tb, m, n, k, 0.7f, da, db, 0.3f, dc, Epilogue.WithBias(dbias, Activation.Relu));
            return acc.Download(dc.View);
        });
    }

    [TestMethod]
    public void LossAdamGatherAndSamplingAreBitIdenticalForAnyThreadCount()
    {
        const int rows = 128, features = 784, latent = 20, parameters = 100_003;
        var logits = Random(5, rows * features, 8f);
        var x = Random(6, rows * features, 0.5f).Select(v => v + 0.5f).ToArray();
        var stats = Random(7, 2 * rows * latent, 2f);
        var p = Random(8, parameters); var g = Random(9, parameters);
        var data = new byte[300 * features];
        new Random(10).NextBytes(data);
        int[] indices = Enumerable.Range(0, rows).Select(i => (i * 37) % 300).ToArray();
        AssertSameForEveryThreadCount(acc =>
        {
            using var dl = acc.Upload<float>(logits); using var dx = acc.Upload<float>(x); using var ds = acc.Upload<float>(stats);
            using var loss = acc.Allocate<float>(rows); using var grad = acc.Allocate<float>(rows * features);
            using var dstats = acc.Allocate<float>(2 * rows * latent);
            acc.VaeLoss(new LossSettings(Likelihood.Bernoulli, 1.5f), dl, dx, ds, rows, features, latent, loss, grad, dstats);

            using var dp = acc.Upload<float>(p); using var dg = acc.Upload<float>(g);
            using var m = acc.Upload<float>(new float[parameters]); using var v = acc.Upload<float>(new float[parameters]);
            for (int step = 1; step <= 2; step++) acc.Adam(new AdamSettings(WeightDecay: 0.01f, Decoupled: true), step, dp, dg, m, v);

            using var dd = acc.Upload<byte>(data); using var di = acc.Upload<int>(indices);
            using var batch = acc.Allocate<float>(rows * features);
            acc.GatherBatch(dd, features, di, rows, batch, binarize: true, new RandomSource(3, 4, RandomStream.Binarize));

            using var eps = acc.Allocate<float>(rows * latent); using var z = acc.Allocate<float>(rows * latent);
            acc.SampleLatent(ds, rows, latent, new RandomSource(11, 12, RandomStream.Latent), eps, z);
            return [.. acc.Download(loss.View), .. acc.Download(grad.View), .. acc.Download(dstats.View), .. acc.Download(dp.View),
                .. acc.Download(m.View), .. acc.Download(v.View), .. acc.Download(batch.View), .. acc.Download(z.View)];
        });
    }

    private static void AssertSameForEveryThreadCount(Func<Accelerator, float[]> run)
    {
        float[]? reference = null;
        foreach (int threads in ThreadCounts)
        {
            using var acc = new CpuAccelerator(threads);
            var result = run(acc);
            Assert.IsTrue(result.Any(v => v != 0), "the op produced nothing to compare");
            if (reference is null) { reference = result; continue; }
            for (int i = 0; i < result.Length; i++)
                if (BitConverter.SingleToInt32Bits(reference[i]) != BitConverter.SingleToInt32Bits(result[i]))
                    Assert.Fail($"{threads} threads: element {i} is {result[i]:R}, 1 thread gave {reference[i]:R}");
        }
    }

    private static float[] Random(int seed, int length, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }
}
