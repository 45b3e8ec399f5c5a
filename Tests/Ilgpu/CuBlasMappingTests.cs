using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Training.Benchmarks;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The row-major to column-major mapping of the cuBLAS yardstick, checked without a GPU: a column-major
/// SGEMM written as the BLAS reference defines it, fed the mapped call, must give our row-major product.
/// </summary>
[TestClass]
public sealed class CuBlasMappingTests
{
    [TestMethod]
    [DataRow(Transpose.N, Transpose.N)]
    [DataRow(Transpose.N, Transpose.T)]
    [DataRow(Transpose.T, Transpose.N)]
    [DataRow(Transpose.T, Transpose.T)]
    public void TheColumnMajorCallComputesTheRowMajorProduct(Transpose transA, Transpose transB)
    {
        const int m = 5, n = 7, k = 3;
        var random = new Random(11);
        float[] a = GemmBenchmark.RandomValues(random, m * k);
        float[] b = GemmBenchmark.RandomValues(random, k * n);
        var call = CuBlasGemm.ColumnMajor(transA, transB, m, n, k);
        float[] c = new float[m * n];
        ColumnMajorSgemm(call.OpFirst, call.OpSecond, call.M, call.N, call.K, b, call.LdFirst, a, call.LdSecond, c, call.LdC);

        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double expected = 0;
                for (int p = 0; p < k; p++)
                    expected += (double)(transA == Transpose.N ? a[i * k + p] : a[p * m + i]) * (transB == Transpose.N ? b[p * n + j] : b[j * k + p]);
                Assert.AreEqual(expected, c[i * n + j], 1e-5, $"C[{i},{j}] of {transA}{transB}");
            }
    }

    [TestMethod]
    public void TheComparisonCoversTheVaeShapesAndTheSquareWithoutEpilogues()
    {
        Assert.AreEqual(GemmBenchmark.VaeShapes.Count + 1, CuBlasComparison.Shapes.Count);
        Assert.IsTrue(CuBlasComparison.Shapes.All(s => s.Epilogue is null), "cuBLAS computes plain GEMMs");
        Assert.IsTrue(CuBlasComparison.Shapes.Any(s => s is { M: 4096, N: 4096, K: 4096 }));
        Assert.AreEqual(0.5, CuBlasComparison.RelativeDifference([1f, 3f], [1f, 2f]), 1e-12);
    }

    /// <summary>C = op(X) op(Y), column-major, as reference BLAS sgemm (alpha 1, beta 0).</summary>
    private static void ColumnMajorSgemm(Transpose opX, Transpose opY, int m, int n, int k,
        float[] x, int ldx, float[] y, int ldy, float[] c, int ldc)
    {
        for (int col = 0; col < n; col++)
            for (int row = 0; row < m; row++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float xv = opX == Transpose.N ? x[row + p * ldx] : x[p + row * ldx];
                    float yv = opY == Transpose.N ? y[p + col * ldy] : y[col + p * ldy];
                    sum += (double)xv * yv;
                }
                c[row + col * ldc] = (float)sum;
            }
    }
}
