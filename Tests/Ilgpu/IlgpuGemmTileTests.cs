using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The GPUs' GEMM (64x64 tiles of 16x16 threads) run on ILGPU's CPU accelerator, where the
/// conformance suite runs the one-warp tile: both shapes against the CPU reference on ragged shapes,
/// every transpose pair, alpha, beta, bias and activation, through views at offsets, and the same
/// bits on a second run.
/// </summary>
[TestClass]
public sealed class IlgpuGemmTileTests
{
    [TestMethod]
    [DataRow("Tile64x64")]
    [DataRow("Tile16x32")]
    public void EachTileShapeMatchesTheCpuOnRaggedShapes(string tileName)
    {
        var tile = Enum.Parse<IlgpuGemmTile>(tileName);
        using var ilgpu = IlgpuAccelerator.CreateCpu();
        ilgpu.GemmTile = tile;
        using var cpu = new CpuAccelerator();
        (int M, int N, int K)[] shapes = [(1, 1, 1), (7, 4, 8), (65, 63, 17), (13, 35, 41), (70, 130, 150)];
        foreach (var (m, n, k) in shapes)
        foreach (var ta in new[] { Transpose.N, Transpose.T })
        foreach (var tb in new[] { Transpose.N, Transpose.T })
        {
            var rng = new Random(m * 1000 + n * 10 + k);
            float[] Random(int length) => Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var (a, b, c, bias) = (Random(m * k), Random(k * n), Random(m * n), Random(n));
            var actual = Gemm(ilgpu, ta, tb, m, n, k, a, b, c, bias);
            var expected = Gemm(cpu, ta, tb, m, n, k, a, b, c, bias);
            for (int i = 0; i < expected.Length; i++)
                Assert.AreEqual(expected[i], actual[i], 2e-6 * k + 1e-6, $"{tile} {ta}{tb} {m}x{n}x{k}: element {i}");
            CollectionAssert.AreEqual(actual, Gemm(ilgpu, ta, tb, m, n, k, a, b, c, bias), $"{tile} {ta}{tb} {m}x{n}x{k}: a second run differs");
        }
    }

    /// <summary>C = leaky(0.8 op(A) op(B) + 0.25 C + bias) through views at offsets of larger buffers.</summary>
    private static float[] Gemm(Accelerator acc, Transpose ta, Transpose tb, int m, int n, int k, float[] a, float[] b, float[] c, float[] bias)
    {
        using var da = acc.Upload<float>([0f, .. a]);
        using var db = acc.Upload<float>([0f, 0f, .. b]);
        using var dc = acc.Upload<float>([0f, 0f, 0f, .. c]);
        using var dbias = acc.Upload<float>([0f, .. bias]);
        var output = dc.Slice(3, m * n);
        acc.Gemm(ta, tb, m, n, k, 0.8f, da.Slice(1, m * k), db.Slice(2, k * n), 0.25f, output,
            Epilogue.WithBias(dbias.Slice(1, n), Activation.LeakyRelu, 0.2f));
        return acc.Download(output);
    }
}
