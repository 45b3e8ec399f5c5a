using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Outputs;
using MathNet.Numerics.LinearAlgebra;

namespace IlgpuVae.Training.Evaluation;

/// <summary>The decoder's Jacobian at one point z: its singular values, numerical rank and column norms.</summary>
/// <param name="Z">The point (Latent floats).</param>
/// <param name="Label">The class of a conditional model's point (null for the others).</param>
/// <param name="SingularValues">Largest first, min(Input, Latent) of them.</param>
/// <param name="Rank">Singular values above tolerance x the largest.</param>
/// <param name="ColumnNorms">|| d mean / d z_j || for each latent dimension j: how far the image moves along axis j.</param>
public sealed record JacobianPoint(float[] Z, int? Label, double[] SingularValues, int Rank, double[] ColumnNorms)
{
    public double Largest => SingularValues.Length > 0 ? SingularValues[0] : 0;
}

/// <summary>What <see cref="DecoderJacobian.Analyse"/> found at every point.</summary>
public sealed record DecoderJacobianResult(int Input, int Latent, double Step, double Tolerance, IReadOnlyList<JacobianPoint> Points)
{
    /// <summary>
    /// The latent dimensions the decoder ignores: those whose column of J has a norm at most tolerance x
    /// the largest singular value at every point (the image barely moves along that axis anywhere).
    /// </summary>
    public int[] IgnoredDimensions => Enumerable.Range(0, Latent)
        .Where(j => Points.Count > 0 && Points.All(p => p.ColumnNorms[j] <= Tolerance * p.Largest)).ToArray();

    /// <summary>For each latent dimension, its largest column norm over the points relative to that point's largest singular value.</summary>
    public double[] RelativeColumnNorms => Enumerable.Range(0, Latent)
        .Select(j => Points.Count == 0 ? 0 : Points.Max(p => p.Largest > 0 ? p.ColumnNorms[j] / p.Largest : 0)).ToArray();
}

/// <summary>
/// The decoder as an immersed manifold: the Jacobian J = d mean / d z (Input x Latent) of the decoder's
/// mean image at points z drawn from the prior, its singular values (the local stretch of each direction
/// of the latent space) and its numerical rank. Where the rank is Latent the decoder is locally an
/// immersion: no direction of z is lost.
///
/// How J is computed: by finite differences of the decoder's logits on the device, in float, and the
/// mean's own derivative applied exactly: for a Bernoulli decoder mean = sigmoid(logit), so
/// J = diag(sigmoid'(logit(z))) d logit / d z; a Gaussian decoder's mean is its logit. Differencing the
/// logits rather than the means leaves out the sigmoid's curvature. Every step's length is what float
/// makes of z_j +- s, not s. With smooth activations (tanh, sigmoid) column j is the central difference
/// (logit(z + h e_j) - logit(z - h e_j)) / 2h, whose error is O(h^2). With ReLU-like activations (and the
/// conv model) the logits are piecewise linear in z, and a difference is exact up to float rounding
/// unless a hidden unit changes sign within the step, which in a decoder of 400 units happens along
/// about half the axes at h = 0.01. So each side of z is also differenced at h/2, h/4 and h/8: the
/// central difference is taken where both sides agree, else the one-sided difference of a side that
/// agrees with its own half step (no kink there), within the rounding of the logits (a few units in
/// their last place over the step). Each point costs 8 x Latent + 1 decoded rows, a few batched decodes.
/// Against a double-precision Jacobian of the trained default model (784-400-20, 10 epochs, 40 points)
/// the singular values are within 3e-4 of the largest (1.3e-2 with plain central differences); the
/// tests hold small MLPs (ReLU, leaky ReLU, tanh, conditional) and a trained model to 1e-3.
/// </summary>
public static class DecoderJacobian
{
    /// <summary>The step h of the differences (latent units; the prior's scale is 1).</summary>
    public const float DefaultStep = 1e-2f;

    /// <summary>The numerical rank's tolerance, relative to the largest singular value.</summary>
    public const double DefaultTolerance = 1e-3;

    /// <summary>
    /// count points z of the model's prior, drawn as the sample command draws its images (chunks of
    /// min(count, 1024) rows, chunk c keyed by (seed, c) on the prior's stream): point i is the z of image
    /// i of `sample --count count --seed seed`. A hierarchical model's z is z1, drawn through z2.
    /// labels: a conditional model's class of each point.
    /// </summary>
    public static float[] PriorPoints(IVaeModel network, ulong seed, int count, ReadOnlySpan<byte> labels = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int latent = network.Config.Latent, chunk = Math.Min(count, 1024);
        if (chunk > network.Capacity) throw new ArgumentException($"the network takes {network.Capacity} rows; drawing {count} points needs {chunk}", nameof(network));
        var acc = network.Accelerator;
        using var oneHot = ImageOutputs.OneHotBuffer(network, labels, count);
        var z = new float[(long)count * latent];
        for (int start = 0, c = 0; start < count; start += chunk, c++)
        {
            int rows = Math.Min(chunk, count - start);
            var condition = oneHot is null ? default : oneHot.Slice(start * network.Config.Classes, rows * network.Config.Classes);
            network.SamplePrior(rows, new RandomSource(seed, (uint)c, RandomStream.Prior), condition);
            acc.CopyToHost(network.Latent(rows), z.AsSpan(start * latent, rows * latent));
        }
        return z;
    }

    /// <summary>
    /// J = d mean / d z at each of count points (z: count x Latent), each Input x Latent in row-major
    /// order (J[i * Latent + j] = d mean_i / d z_j), from the logits at z and at z +- s e_j for the steps
    /// s = h, h/2, h/4, h/8 (<see cref="RowsPerPoint"/> decoded rows a point; the class summary says how
    /// a column is chosen). labels: a conditional model's class of each point.
    /// </summary>
    public static double[][] Jacobians(IVaeModel network, ReadOnlySpan<float> z, int count, float step = DefaultStep,
        ReadOnlySpan<byte> labels = default, CancellationToken cancellation = default)
    {
        var config = network.Config;
        int latent = config.Latent, input = config.Input, classes = config.Classes, perPoint = RowsPerPoint(config);
        if (!(step > 0) || !float.IsFinite(step)) throw new ArgumentOutOfRangeException(nameof(step), step, "the step must be positive");
        if (z.Length < (long)count * latent) throw new ArgumentException($"{count} points need {count * latent} floats; got {z.Length}", nameof(z));
        if (perPoint > network.Capacity) throw new ArgumentException($"a point needs {perPoint} rows; the network takes {network.Capacity}", nameof(network));
        if (classes > 0 && labels.Length < count) throw new ArgumentException($"a conditional model needs a label for each of the {count} points", nameof(labels));
        var acc = network.Accelerator;
        bool piecewiseLinear = IsPiecewiseLinear(config);
        int pointsPerBatch = Math.Max(1, Math.Min(count, network.Capacity / perPoint));
        int batchRows = pointsPerBatch * perPoint;
        using var zBuffer = acc.Allocate<float>(batchRows * latent);
        using var conditionBuffer = classes > 0 ? acc.Allocate<float>(batchRows * classes) : null;
        var rowsZ = new float[batchRows * latent];
        var rowsCondition = new float[classes > 0 ? batchRows * classes : 0];
        var logits = new float[batchRows * input];
        var result = new double[count][];
        for (int first = 0; first < count; first += pointsPerBatch)
        {
            cancellation.ThrowIfCancellationRequested();
            int points = Math.Min(pointsPerBatch, count - first), rows = points * perPoint;
            // Row 0 of a point: z itself; then for each dimension d and step k, z + s_k e_d and z - s_k e_d.
            Array.Clear(rowsCondition);
            for (int p = 0; p < points; p++)
            {
                var point = z.Slice((first + p) * latent, latent);
                for (int r = 0; r < perPoint; r++)
                {
                    var row = rowsZ.AsSpan((p * perPoint + r) * latent, latent);
                    point.CopyTo(row);
                    if (r > 0)
                    {
                        int d = (r - 1) / (2 * Steps), k = (r - 1) / 2 % Steps;
                        row[d] += (r - 1) % 2 == 0 ? Step(step, k) : -Step(step, k);
                    }
                    if (classes > 0) rowsCondition[(p * perPoint + r) * classes + labels[first + p]] = 1f;
                }
            }
            acc.CopyFromHost<float>(rowsZ.AsSpan(0, rows * latent), zBuffer.Slice(0, rows * latent));
            var condition = default(DeviceView<float>);
            if (conditionBuffer is not null)
            {
                condition = conditionBuffer.Slice(0, rows * classes);
                acc.CopyFromHost<float>(rowsCondition.AsSpan(0, rows * classes), condition);
            }
            acc.CopyToHost(network.DecodeLogits(zBuffer.Slice(0, rows * latent), rows, condition), logits.AsSpan(0, rows * input));

            for (int p = 0; p < points; p++)
            {
                var j = new double[input * latent];
                var column = new double[input];
                var differences = new Difference(logits, rowsZ, input, latent, p * perPoint);
                for (int d = 0; d < latent; d++)
                {
                    differences.Column(d, piecewiseLinear, column);
                    for (int i = 0; i < input; i++) j[i * latent + d] = column[i];
                }
                if (config.Likelihood == Likelihood.Bernoulli)
                {
                    for (int i = 0; i < input; i++)
                    {
                        double slope = SigmoidSlope(logits[p * perPoint * input + i]);
                        for (int d = 0; d < latent; d++) j[i * latent + d] *= slope;
                    }
                }
                result[first + p] = j;
            }
        }
        return result;
    }

    /// <summary>The steps of the differences: h, h/2, h/4, h/8.</summary>
    public const int Steps = 4;

    private static float Step(float h, int k) => h / (1 << k);

    /// <summary>Decoded rows per point: z, and z +- s e_j for each latent dimension j and each of the <see cref="Steps"/> steps s.</summary>
    public static int RowsPerPoint(VaeConfig config) => 2 * Steps * config.Latent + 1;

    /// <summary>Whether the decoder's logits are piecewise linear in z: ReLU or leaky ReLU hidden layers (the conv model's are ReLU).</summary>
    public static bool IsPiecewiseLinear(VaeConfig config) =>
        config.Kind == ModelKind.Conv || config.Activation is Activation.Relu or Activation.LeakyRelu;

    /// <summary>The one-sided differences of the logits of one point along each dimension, and the choice among them.</summary>
    private readonly struct Difference(float[] logits, float[] rowsZ, int input, int latent, int baseRow)
    {
        private int Row(int d, int k, bool plus) => baseRow + 1 + 2 * (d * Steps + k) + (plus ? 0 : 1);

        /// <summary>(logit(z + s_k e_d) - logit(z)) / s (plus) or (logit(z) - logit(z - s_k e_d)) / s, with the step float really took.</summary>
        private void OneSided(int d, int k, bool plus, double[] into)
        {
            int row = Row(d, k, plus);
            double width = (double)rowsZ[row * latent + d] - rowsZ[baseRow * latent + d];
            for (int i = 0; i < input; i++) into[i] = ((double)logits[row * input + i] - logits[baseRow * input + i]) / width;
        }

        /// <summary>
        /// The size of float's rounding in a difference of step s: a few units in the last place of the
        /// logits (as a norm over the pixels), over s.
        /// </summary>
        private double Rounding(double s)
        {
            double sum = 0;
            for (int i = 0; i < input; i++)
            {
                double magnitude = Math.Abs(logits[baseRow * input + i]) + 1;
                sum += magnitude * magnitude;
            }
            return RoundingUlps * Math.Pow(2, -24) * Math.Sqrt(sum) / s;
        }

        public void Column(int d, bool piecewiseLinear, double[] column)
        {
            // Smooth activations: the central difference of step h, whose error is O(h^2).
            if (!piecewiseLinear)
            {
                Central(d, 0, column);
                return;
            }
            var plus = new double[input];
            var minus = new double[input];
            OneSided(d, 0, true, plus);
            OneSided(d, 0, false, minus);
            var nextPlus = new double[input];
            var nextMinus = new double[input];
            double h = Math.Abs((double)rowsZ[Row(d, 0, true) * latent + d] - rowsZ[baseRow * latent + d]);
            for (int k = 0; k < Steps; k++)
            {
                double s = h / (1 << k), tolerance = Rounding(s / 2);
                // Both sides of z on one linear piece: they agree, and their mean is the central difference.
                if (Distance(plus, minus) <= tolerance)
                {
                    Central(d, k, column);
                    return;
                }
                if (k == Steps - 1) break;
                OneSided(d, k + 1, true, nextPlus);
                OneSided(d, k + 1, false, nextMinus);
                // One side is linear over its step when the difference of half the step agrees with it.
                bool plusLinear = Distance(plus, nextPlus) <= tolerance, minusLinear = Distance(minus, nextMinus) <= tolerance;
                if (plusLinear || minusLinear)
                {
                    Array.Copy(plusLinear && (!minusLinear || Distance(plus, nextPlus) <= Distance(minus, nextMinus)) ? plus : minus, column, input);
                    return;
                }
                (plus, nextPlus) = (nextPlus, plus);
                (minus, nextMinus) = (nextMinus, minus);
            }
            // Kinks on both sides within the smallest step: the central difference of the smallest step.
            Central(d, Steps - 1, column);
        }

        private void Central(int d, int k, double[] column)
        {
            int plus = Row(d, k, true), minus = Row(d, k, false);
            double width = (double)rowsZ[plus * latent + d] - rowsZ[minus * latent + d];
            for (int i = 0; i < input; i++) column[i] = ((double)logits[plus * input + i] - logits[minus * input + i]) / width;
        }

        private static double Distance(double[] a, double[] b)
        {
            double sum = 0;
            for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
            return Math.Sqrt(sum);
        }
    }

    /// <summary>Units in the last place of a logit that float's rounding is allowed before two differences count as different.</summary>
    private const double RoundingUlps = 6;

    /// <summary>sigmoid'(x) = s (1 - s), written so that it neither overflows nor cancels for large |x|.</summary>
    public static double SigmoidSlope(double x)
    {
        double e = Math.Exp(-Math.Abs(x));
        return e / ((1 + e) * (1 + e));
    }

    /// <summary>The singular values of an input x latent row-major matrix, largest first (MathNet's SVD).</summary>
    public static double[] SingularValues(double[] j, int input, int latent) =>
        PrincipalAngles.FromRowMajor(j, input, latent, nameof(j)).Svd(computeVectors: false).S.ToArray();

    /// <summary>The numerical rank: singular values above tolerance x the largest (0 for a zero matrix).</summary>
    public static int Rank(IReadOnlyList<double> singularValues, double tolerance)
    {
        if (singularValues.Count == 0 || !(singularValues[0] > 0)) return 0;
        double threshold = tolerance * singularValues[0];
        return singularValues.Count(s => s > threshold);
    }

    /// <summary>The Euclidean norm of each column of an input x latent row-major matrix.</summary>
    public static double[] ColumnNorms(double[] j, int input, int latent)
    {
        var sums = new double[latent];
        for (int i = 0; i < input; i++)
            for (int d = 0; d < latent; d++)
            {
                double v = j[i * latent + d];
                sums[d] += v * v;
            }
        return sums.Select(Math.Sqrt).ToArray();
    }

    /// <summary>The Jacobian's singular values, rank and column norms at count points of the prior drawn with seed.</summary>
    public static DecoderJacobianResult Analyse(IVaeModel network, int count, ulong seed, float step = DefaultStep, double tolerance = DefaultTolerance,
        CancellationToken cancellation = default)
    {
        if (!(tolerance >= 0) || !(tolerance < 1)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the tolerance is relative: 0 <= tolerance < 1");
        var config = network.Config;
        byte[] labels = config.Classes > 0 ? Enumerable.Range(0, count).Select(i => (byte)(i % config.Classes)).ToArray() : [];
        float[] z = PriorPoints(network, seed, count, labels);
        var jacobians = Jacobians(network, z, count, step, labels, cancellation);
        var points = new JacobianPoint[count];
        for (int p = 0; p < count; p++)
        {
            var s = SingularValues(jacobians[p], config.Input, config.Latent);
            points[p] = new JacobianPoint(z.AsSpan(p * config.Latent, config.Latent).ToArray(), config.Classes > 0 ? labels[p] : null,
                s, Rank(s, tolerance), ColumnNorms(jacobians[p], config.Input, config.Latent));
        }
        return new DecoderJacobianResult(config.Input, config.Latent, step, tolerance, points);
    }

    /// <summary>The rows the network needs for count points: the draws, and one point's decodes, up to 1024 rows a batch.</summary>
    public static int Capacity(VaeConfig config, int count)
    {
        int perPoint = RowsPerPoint(config);
        return (int)Math.Max(perPoint, Math.Min((long)count * perPoint, 1024));
    }
}
