using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// Principal angles between the column spaces of two matrices (Björck and Golub): orthonormal bases Q1,
/// Q2 by QR, then the singular values of Q1^T Q2 are the cosines of the angles. 0 degrees: a shared
/// direction; 90: a direction of one orthogonal to all of the other. Used to ask whether a decoder's
/// column space is the span of the data's principal components.
///
/// Matrices are double arrays in row-major order, as every matrix of this project: element (i, j) of an
/// n x k matrix is at i * k + j; a column is a direction in R^n.
/// </summary>
public static class PrincipalAngles
{
    /// <summary>Columns whose QR pivot falls below this share of the largest are taken as dependent.</summary>
    public const double RankTolerance = 1e-10;

    /// <summary>
    /// The min(columnsA, columnsB) principal angles in degrees, smallest first, between the column space
    /// of a (rows x columnsA) and that of b (rows x columnsB). Through acos, so an angle near 0 is
    /// resolved to about 1e-6 degrees (the cosine's rounding); ample for subspace comparisons.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes that do not match, or columns that are not linearly independent.</exception>
    public static double[] Degrees(double[] a, double[] b, int rows, int columnsA, int columnsB)
        => Degrees(FromRowMajor(a, rows, columnsA, nameof(a)), FromRowMajor(b, rows, columnsB, nameof(b)));

    /// <summary>As the other overload, for two matrices of the same number of columns.</summary>
    public static double[] Degrees(double[] a, double[] b, int rows, int columns) => Degrees(a, b, rows, columns, columns);

    public static double[] Degrees(Matrix<double> a, Matrix<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.RowCount != b.RowCount) throw new ArgumentException($"the matrices have {a.RowCount} and {b.RowCount} rows");
        var cosines = OrthonormalBasis(a, nameof(a)).TransposeThisAndMultiply(OrthonormalBasis(b, nameof(b))).Svd(computeVectors: false).S;
        // Descending singular values: ascending angles. Rounding can put a cosine a hair above 1.
        return [.. cosines.Take(Math.Min(a.ColumnCount, b.ColumnCount)).Select(c => Math.Acos(Math.Clamp(c, 0, 1)) * 180 / Math.PI)];
    }

    /// <summary>An orthonormal basis of the column space (thin QR), refusing dependent columns rather than inventing directions for them.</summary>
    public static Matrix<double> OrthonormalBasis(Matrix<double> a, string name = "a")
    {
        if (a.ColumnCount == 0 || a.RowCount < a.ColumnCount)
            throw new ArgumentException($"{a.RowCount} x {a.ColumnCount}: the columns of a matrix with fewer rows than columns (or none) cannot be independent", name);
        var qr = a.QR(QRMethod.Thin);
        double largest = Enumerable.Range(0, a.ColumnCount).Max(j => Math.Abs(qr.R[j, j]));
        for (int j = 0; j < a.ColumnCount; j++)
            if (!(Math.Abs(qr.R[j, j]) > RankTolerance * largest))
                throw new ArgumentException($"column {j} of {name} is (nearly) a combination of the columns before it: the column space has fewer than {a.ColumnCount} dimensions", name);
        return qr.Q;
    }

    /// <summary>A MathNet matrix (column-major inside) from a row-major array.</summary>
    public static Matrix<double> FromRowMajor(double[] data, int rows, int columns, string name = "data")
    {
        ArgumentNullException.ThrowIfNull(data, name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if ((long)rows * columns != data.Length)
            throw new ArgumentException($"{data.Length} values are not a {rows} x {columns} matrix", name);
        return Matrix<double>.Build.Dense(rows, columns, (i, j) => data[i * columns + j]);
    }
}
