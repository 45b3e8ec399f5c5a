using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Cpu;

/// <summary>
/// The CPU GEMM's cache blocking: on one thread, shapes just past every block edge (MC rows, NC
/// columns, KC depth) run each blocking loop more than once, for every transpose pair.
/// </summary>
[TestClass]
public sealed class CpuGemmBlockingTests
{
    [TestMethod]
    [DataRow(Transpose.N, Transpose.N)]
    [DataRow(Transpose.N, Transpose.T)]
    [DataRow(Transpose.T, Transpose.N)]
    [DataRow(Transpose.T, Transpose.T)]
    public void ShapesBeyondEveryBlockMatchTheReference(Transpose ta, Transpose tb)
    {
        int m = CpuGemm.MC + 7, n = CpuGemm.NC + 19, k = CpuGemm.KC + 5;
        var random = new Random(5);
        float[] Values(int length) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Values(m * k); var b = Values(k * n); var c = Values(m * n); var bias = Values(n);
        using var acc = new CpuAccelerator(threads: 1);
        using var da = acc.Upload<float>(a); using var db = acc.Upload<float>(b);
        using var dc = acc.Upload<float>(c); using var dbias = acc.Upload<float>(bias);
        acc.Gemm(ta, tb, m, n, k, 1.25f, da, db, -0.5f, dc, Epilogue.WithBias(dbias, Activation.LeakyRelu, 0.1f));
        var result = acc.Download(dc.View);

        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0, magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double av = ta == Transpose.N ? a[i * k + p] : a[p * m + i];
                double bv = tb == Transpose.N ? b[p * n + j] : b[j * k + p];
                sum += av * bv;
                magnitude += Math.Abs(av * bv);
            }
            double value = 1.25 * sum - 0.5 * c[i * n + j] + bias[j];
            double expected = value > 0 ? value : 0.1 * value;
            double tolerance = 1e-5 * (1.25 * magnitude + 0.5 * Math.Abs(c[i * n + j]) + Math.Abs(bias[j])) + 1e-6;
            if (!(Math.Abs(result[i * n + j] - expected) <= tolerance))
                Assert.Fail($"{ta}{tb} {m}x{n}x{k}: C[{i},{j}] = {result[i * n + j]:R}, expected {expected:R}");
        }
    }
}
