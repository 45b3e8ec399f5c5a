using MathNet.Numerics.LinearAlgebra;
using SimdVector = System.Numerics.Vector;

namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// The top principal components of a data set. <paramref name="Components"/> is features x k, row-major
/// (<see cref="PrincipalAngles"/>' convention): column j is the j-th component, a unit vector whose
/// largest-magnitude element is positive (so the result does not depend on the eigensolver's signs).
/// <paramref name="Variances"/> are the data's variances along them (covariance eigenvalues, N − 1),
/// largest first; <paramref name="Mean"/> the per-feature mean that was subtracted.
/// </summary>
public sealed record PrincipalComponents(int Features, double[] Mean, double[] Components, double[] Variances)
{
    public int Count => Variances.Length;

    /// <summary>
    /// The top k components of count samples (count x features, row-major): the eigenvectors of the
    /// features x features covariance of the centred data, which is cheap for image-sized features and
    /// any count (the SVD of the count x features data would cost count/features times more). Needs
    /// 8 * count * features bytes for the centred data in double.
    /// </summary>
    public static PrincipalComponents Top(ReadOnlySpan<float> data, int count, int features, int k)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), count, "a covariance needs at least two samples");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (k < 1 || k > features) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {features}]");
        if ((long)count * features > data.Length)
            throw new ArgumentException($"{count} samples of {features} features need {(long)count * features} values, got {data.Length}", nameof(data));

        var mean = new double[features];
        for (int i = 0; i < count; i++)
            for (int f = 0; f < features; f++) mean[f] += data[i * features + f];
        for (int f = 0; f < features; f++) mean[f] /= count;

        // Centred and transposed (one feature's values contiguous), so each covariance entry is one dot product.
        var columns = new double[features][];
        for (int f = 0; f < features; f++) columns[f] = new double[count];
        for (int i = 0; i < count; i++)
            for (int f = 0; f < features; f++) columns[f][i] = data[i * features + f] - mean[f];

        var covariance = Matrix<double>.Build.Dense(features, features);
        Parallel.For(0, features, f =>
        {
            for (int g = f; g < features; g++)
            {
                double c = Dot(columns[f], columns[g]) / (count - 1);
                covariance[f, g] = c;
                covariance[g, f] = c;
            }
        });

        // Sorted here rather than trusting the solver's order (MathNet's symmetric one happens to ascend).
        var evd = covariance.Evd(Symmetricity.Symmetric);
        int[] largest = [.. Enumerable.Range(0, features).OrderByDescending(i => evd.EigenValues[i].Real).ThenBy(i => i)];
        var components = new double[features * k];
        var variances = new double[k];
        for (int j = 0; j < k; j++)
        {
            int source = largest[j];
            variances[j] = evd.EigenValues[source].Real;
            var v = evd.EigenVectors.Column(source);
            double sign = v[v.AbsoluteMaximumIndex()] < 0 ? -1 : 1;
            for (int f = 0; f < features; f++) components[f * k + j] = sign * v[f];
        }
        return new PrincipalComponents(features, mean, components, variances);
    }

    private static double Dot(double[] a, double[] b)
    {
        int n = a.Length, w = System.Numerics.Vector<double>.Count, i = 0;
        var acc = System.Numerics.Vector<double>.Zero;
        for (; i <= n - w; i += w) acc += new System.Numerics.Vector<double>(a, i) * new System.Numerics.Vector<double>(b, i);
        double sum = SimdVector.Sum(acc);
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }
}
