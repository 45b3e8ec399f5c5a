using IlgpuVae.Model;
using MathNet.Numerics;

namespace IlgpuVae.Training.Evaluation;

/// <summary>Elements [Offset, Offset + Length) of the flat parameter vector, under a name (a tensor).</summary>
public sealed record ParameterRange(string Name, int Offset, int Length);

/// <summary>Ranges of the flat vector summarised together (a layer, the encoder, ...).</summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<ParameterRange> Ranges)
{
    public int Elements => Ranges.Sum(r => r.Length);

    /// <summary>One group per tensor of the layout, named as the tensor (the alignment gaps belong to none).</summary>
    public static IReadOnlyList<ParameterGroup> PerTensor(ParameterLayout layout) =>
        [.. layout.Tensors.Select(t => new ParameterGroup(t.Name, [new ParameterRange(t.Name, t.Offset, t.Length)]))];
}

/// <summary>
/// Per group, over its elements i: the mean of the estimated means m_i, the mean of the unbiased
/// per-element variances s_i^2 (N − 1), the mean over draws of the squared norm ||g||^2 of the group's
/// part of the gradient (= Σ_i m_i^2 + (N − 1)/N s_i^2, from the same sums), and ||m||^2, the squared
/// norm of the mean gradient (the signal that the variance is noise on).
/// </summary>
public sealed record GroupGradientStatistics(string Name, int Elements, double MeanOfMeans, double MeanVariance,
    double MeanSquaredNorm, double SquaredNormOfMean);

/// <summary>What an accumulator holds, per group, after <paramref name="Draws"/> gradient estimates.</summary>
public sealed record GradientVarianceSummary(long Draws, IReadOnlyList<GroupGradientStatistics> Groups)
{
    public string ToJson() => GradientStatisticsJson.Write(this);
    public static GradientVarianceSummary FromJson(string json) => GradientStatisticsJson.ReadSummary(json);
}

/// <summary>
/// Estimator A against B for one group. VarianceRatio = mean variance of A / that of B (below 1: A is
/// the less noisy). AgreementShare: the share of elements whose means differ by at most Z standard errors,
/// se_i = sqrt(s²A_i / NA + s²B_i / NB); for two unbiased estimators it is about ExpectedAgreementShare =
/// erf(Z / √2) (0.9973 for Z = 3), for a biased one lower. ReducedChiSquare = mean over elements of
/// ((mA_i − mB_i) / se_i)^2: about 1 when both are unbiased (a little above with few draws, as se is
/// itself estimated), far above with a bias of a few standard errors. Elements with se = 0 (constant in
/// both, e.g. never-used parameters) agree when their means are equal and are left out of the chi-square.
/// </summary>
public sealed record GroupComparison(string Name, int Elements, double VarianceRatio, double AgreementShare,
    double ExpectedAgreementShare, double ReducedChiSquare);

/// <summary>The comparison of two accumulators, group by group, at <paramref name="Z"/> standard errors.</summary>
public sealed record GradientComparison(double Z, long DrawsA, long DrawsB, IReadOnlyList<GroupComparison> Groups)
{
    public string ToJson() => GradientStatisticsJson.Write(this);
    public static GradientComparison FromJson(string json) => GradientStatisticsJson.ReadComparison(json);
}

/// <summary>
/// Accumulates N estimates of a gradient (a flat parameter vector) for the mean and variance of every
/// element, with Welford's update in double: one pass, no stored draws, and none of the cancellation of
/// Σg² − (Σg)²/N when the variance is small beside the mean (as it is for well-trained parameters).
/// Used to compare gradient estimators (e.g. reparameterised against score-function, or one sample
/// against K): the same parameters, many draws of each, then <see cref="Compare"/>.
/// </summary>
public sealed class GradientVarianceStatistics
{
    private readonly double[] _mean, _m2;

    public GradientVarianceStatistics(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _mean = new double[length];
        _m2 = new double[length];
    }

    public int Length => _mean.Length;

    /// <summary>Estimates added so far.</summary>
    public long Count { get; private set; }

    public void Add(ReadOnlySpan<float> gradient)
    {
        CheckLength(gradient.Length);
        Count++;
        for (int i = 0; i < _mean.Length; i++) Update(i, gradient[i]);
    }

    public void Add(ReadOnlySpan<double> gradient)
    {
        CheckLength(gradient.Length);
        Count++;
        for (int i = 0; i < _mean.Length; i++) Update(i, gradient[i]);
    }

    public double Mean(int element) => _mean[element];

    /// <summary>The unbiased variance of element (divided by N − 1); NaN before two estimates.</summary>
    public double Variance(int element) => Count < 2 ? double.NaN : _m2[element] / (Count - 1);

    public GradientVarianceSummary Summarize(IReadOnlyList<ParameterGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var result = new List<GroupGradientStatistics>(groups.Count);
        foreach (var group in groups)
        {
            double means = 0, variances = 0, squaredNorm = 0, normOfMean = 0;
            foreach (int i in Elements(group))
            {
                means += _mean[i];
                variances += Variance(i);
                normOfMean += _mean[i] * _mean[i];
                // (1/N) Σ_n g_n,i^2 = m_i^2 + M2_i / N: exact, so no per-draw norms need to be kept.
                squaredNorm += _mean[i] * _mean[i] + (Count == 0 ? double.NaN : _m2[i] / Count);
            }
            int n = group.Elements;
            result.Add(new GroupGradientStatistics(group.Name, n, means / n, variances / n, squaredNorm, normOfMean));
        }
        return new GradientVarianceSummary(Count, result);
    }

    /// <summary>Estimator <paramref name="a"/> against <paramref name="b"/> per group (<see cref="GroupComparison"/>).</summary>
    public static GradientComparison Compare(GradientVarianceStatistics a, GradientVarianceStatistics b, IReadOnlyList<ParameterGroup> groups, double z = 3)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(groups);
        if (a.Length != b.Length) throw new ArgumentException($"the accumulators hold {a.Length} and {b.Length} elements");
        if (a.Count < 2 || b.Count < 2) throw new InvalidOperationException($"a comparison needs two estimates of each (have {a.Count} and {b.Count})");
        if (!(z > 0)) throw new ArgumentOutOfRangeException(nameof(z), z, "z must be > 0");
        double expected = SpecialFunctions.Erf(z / Math.Sqrt(2));
        var result = new List<GroupComparison>(groups.Count);
        foreach (var group in groups)
        {
            double varA = 0, varB = 0, chi = 0;
            int agree = 0, compared = 0;
            foreach (int i in a.Elements(group))
            {
                double va = a.Variance(i), vb = b.Variance(i), diff = a._mean[i] - b._mean[i];
                varA += va;
                varB += vb;
                double se = Math.Sqrt(va / a.Count + vb / b.Count);
                if (se == 0)
                {
                    if (diff == 0) agree++;
                    continue;
                }
                double t = diff / se;
                if (Math.Abs(t) <= z) agree++;
                chi += t * t;
                compared++;
            }
            int n = group.Elements;
            result.Add(new GroupComparison(group.Name, n, varA / varB, (double)agree / n, expected, compared == 0 ? double.NaN : chi / compared));
        }
        return new GradientComparison(z, a.Count, b.Count, result);
    }

    private void Update(int i, double x)
    {
        double delta = x - _mean[i];
        _mean[i] += delta / Count;
        _m2[i] += delta * (x - _mean[i]);
    }

    private void CheckLength(int length)
    {
        if (length != _mean.Length) throw new ArgumentException($"a gradient of {length} elements for an accumulator of {_mean.Length}");
    }

    private IEnumerable<int> Elements(ParameterGroup group)
    {
        if (group.Elements == 0) throw new ArgumentException($"group '{group.Name}' has no elements");
        foreach (var r in group.Ranges)
        {
            if (r.Offset < 0 || r.Length < 0 || (long)r.Offset + r.Length > _mean.Length)
                throw new ArgumentException($"range '{r.Name}' [{r.Offset}, {(long)r.Offset + r.Length}) of group '{group.Name}' is outside the {_mean.Length} elements");
            for (int i = r.Offset; i < r.Offset + r.Length; i++) yield return i;
        }
    }
}
