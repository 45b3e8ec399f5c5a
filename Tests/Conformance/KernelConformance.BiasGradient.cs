using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>Bias gradient (column sums) against a double reference.</summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(3, 5)]
    [DataRow(128, 20)]
    [DataRow(128, 40)]
    [DataRow(128, 400)]
    [DataRow(128, 784)]
    [DataRow(1000, 3)]
    [DataRow(5, 1001)]
    [DataRow(257, 33)]
    public void BiasGradientMatchesColumnSums(int rows, int cols)
    {
        var dy = RandomFloats(rows * 131 + cols, rows * cols, -2f, 2f);
        var (dyBuffer, dyView) = UploadAtOffset(dy, 3);
        // The result is overwritten, never accumulated: it starts as NaN inside the view.
        var (dbBuffer, dbView) = UploadAtOffset(Filled(cols, float.NaN), 5);
        using (dyBuffer)
        using (dbBuffer)
        {
            Acc.BiasGradient(dyView, rows, cols, dbView);
            var expected = new double[cols];
            var magnitude = new double[cols];
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                expected[j] += dy[i * cols + j];
                magnitude[j] += Math.Abs(dy[i * cols + j]);
            }
            AssertClose(expected, Download(dbView), j => 1e-5 * magnitude[j] + 1e-6, $"bias gradient {rows}x{cols}");
            AssertGuardsIntact(dbBuffer, 5, cols, "dbias buffer");
            CollectionAssert.AreEqual(dy, Download(dyView), "dy changed");
        }
    }
}
