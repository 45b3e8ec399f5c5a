using IlgpuVae.Training.Evaluation;
using MathNet.Numerics.LinearAlgebra;

namespace IlgpuVae.Tests.Evaluation;

/// <summary>Principal angles on subspaces of known relation, and principal components of data of known covariance.</summary>
[TestClass]
public sealed class PrincipalAnglesTests
{
    private static double[] RowMajor(Matrix<double> m) => [.. Enumerable.Range(0, m.RowCount * m.ColumnCount).Select(i => m[i / m.ColumnCount, i % m.ColumnCount])];

    private static Matrix<double> Gaussian(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        return Matrix<double>.Build.Dense(rows, columns, (_, _) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
    }

    private static double[] Unit(int n, params (int Index, double Value)[] entries)
    {
        var v = new double[n];
        foreach (var (i, x) in entries) v[i] = x;
        return v;
    }

    /// <summary>Row-major n x k from k column vectors.</summary>
    private static double[] Columns(params double[][] columns) =>
        [.. Enumerable.Range(0, columns[0].Length).SelectMany(i => columns.Select(c => c[i]))];

    [TestMethod]
    public void TheSameSpaceInAnotherBasisGivesZeroDegrees()
    {
        var a = Gaussian(50, 3, 1);
        var mix = Matrix<double>.Build.DenseOfArray(new double[,] { { 2, 1, 0 }, { 0, -1, 3 }, { 1, 0, 0.5 } });
        double[] angles = PrincipalAngles.Degrees(RowMajor(a), RowMajor(a * mix), 50, 3);
        Assert.HasCount(3, angles);
        foreach (double angle in angles) Assert.AreEqual(0.0, angle, 1e-5);
    }

    [TestMethod]
    public void OrthogonalSpacesGiveNinetyDegrees()
    {
        double[] a = Columns(Unit(5, (0, 1)), Unit(5, (1, 1)));
        double[] b = Columns(Unit(5, (2, 3)), Unit(5, (3, 1), (4, 1)));
        CollectionAssert.AreEqual(new[] { 90.0, 90.0 }, PrincipalAngles.Degrees(a, b, 5, 2));
    }

    [TestMethod]
    [DataRow(30.0)]
    [DataRow(1.0)]
    [DataRow(75.0)]
    public void ARotatedDirectionGivesTheRotationAngle(double degrees)
    {
        // span{e1, e2} against span{e1 + 2 (cos t e2 + sin t e3), -e1}: one shared direction (0 degrees) and
        // e2 turned by t towards e3; the second basis is neither orthogonal nor normalised.
        double t = degrees * Math.PI / 180;
        double[] a = Columns(Unit(4, (0, 1)), Unit(4, (1, 1)));
        double[] b = Columns(Unit(4, (0, 1), (1, 2 * Math.Cos(t)), (2, 2 * Math.Sin(t))), Unit(4, (0, -1)));
        double[] angles = PrincipalAngles.Degrees(a, b, 4, 2);
        Assert.AreEqual(0.0, angles[0], 1e-6);
        Assert.AreEqual(degrees, angles[1], 1e-9);
        // One column against two: the angle of the rotated direction to the plane.
        Assert.AreEqual(degrees, PrincipalAngles.Degrees(a, Unit(4, (1, Math.Cos(t)), (2, Math.Sin(t))), 4, 2, 1).Single(), 1e-9);
    }

    [TestMethod]
    public void DependentColumnsAndMismatchedShapesAreRejected()
    {
        double[] a = Columns(Unit(3, (0, 1)), Unit(3, (1, 1)));
        double[] dependent = Columns(Unit(3, (0, 1), (1, 1)), Unit(3, (0, 2), (1, 2)));
        var e = Assert.ThrowsExactly<ArgumentException>(() => PrincipalAngles.Degrees(a, dependent, 3, 2));
        StringAssert.Contains(e.Message, "column 1");
        Assert.ThrowsExactly<ArgumentException>(() => PrincipalAngles.Degrees(a, a, 2, 2));
    }

    [TestMethod]
    public void TopComponentsOfDataWithAKnownCovarianceAreRecovered()
    {
        // x = mean + R diag(sd) z, R a random rotation of R^6: the covariance is R diag(sd²) R^T, its
        // eigenvectors R's columns. 20,000 samples estimate each variance to √(2/N) = 1% and each
        // direction to about sd_j sd_i / (sd_j² − sd_i²) / √N radians: well under a degree here.
        const int features = 6, count = 20_000;
        double[] sd = [3, 2, 1, 0.5, 0.2, 0.1];
        var rotation = Gaussian(features, features, 2).QR().Q;
        var z = Gaussian(count, features, 3);
        double[] mean = [5, -1, 0, 2, 0.5, 100];
        var data = new float[count * features];
        for (int i = 0; i < count; i++)
            for (int f = 0; f < features; f++)
            {
                double x = mean[f];
                for (int j = 0; j < features; j++) x += rotation[f, j] * sd[j] * z[i, j];
                data[i * features + f] = (float)x;
            }

        var pcs = PrincipalComponents.Top(data, count, features, 3);
        Assert.AreEqual(3, pcs.Count);
        for (int j = 0; j < 3; j++)
        {
            Assert.AreEqual(sd[j] * sd[j], pcs.Variances[j], 0.04 * sd[j] * sd[j], $"variance {j}");
            double[] column = [.. Enumerable.Range(0, features).Select(f => pcs.Components[f * 3 + j])];
            Assert.AreEqual(1.0, column.Sum(v => v * v), 1e-12, "unit length");
            Assert.AreEqual(0.0, PrincipalAngles.Degrees(column, [.. rotation.Column(j)], features, 1).Single(), 1.0, $"direction {j}");
        }
        for (int f = 0; f < features; f++) Assert.AreEqual(mean[f], pcs.Mean[f], 0.05);
        double[] top = RowMajor(rotation.SubMatrix(0, features, 0, 3));
        Assert.IsLessThan(1.0, PrincipalAngles.Degrees(pcs.Components, top, features, 3).Max());
        // The fourth direction is not in the top three: 90 degrees from their span.
        Assert.AreEqual(90.0, PrincipalAngles.Degrees(pcs.Components, [.. rotation.Column(3)], features, 3, 1).Single(), 1.0);
    }
}
