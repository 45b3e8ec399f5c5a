using IlgpuVae.Model;
using IlgpuVae.Training.Evaluation;

namespace IlgpuVae.Tests.Evaluation;

/// <summary>The gradient-variance accumulator on draws from normals of known means and variances.</summary>
[TestClass]
public sealed class GradientVarianceStatisticsTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Box-Muller normals from a seeded System.Random: the same numbers on every run.</summary>
    private sealed class Normals(int seed)
    {
        private readonly Random _random = new(seed);

        public double Next(double mean, double sd)
        {
            double u = 1 - _random.NextDouble(), v = _random.NextDouble(); // u in (0, 1]: log u is finite
            return mean + sd * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
        }
    }

    private static GradientVarianceStatistics Draw(int seed, int draws, double[] means, double[] sds)
    {
        var normals = new Normals(seed);
        var stats = new GradientVarianceStatistics(means.Length);
        var g = new double[means.Length];
        for (int n = 0; n < draws; n++)
        {
            for (int i = 0; i < g.Length; i++) g[i] = normals.Next(means[i], sds[i]);
            stats.Add(g);
        }
        return stats;
    }

    private static readonly ParameterGroup[] TwoGroups =
    [
        new("weights", [new ParameterRange("w", 0, 4)]),
        new("biases", [new ParameterRange("b0", 4, 1), new ParameterRange("b1", 5, 1)]),
    ];

    [TestMethod]
    public void WelfordMatchesTheTwoPassFormulasOnAHandExample()
    {
        var stats = new GradientVarianceStatistics(2);
        foreach (float[] g in new[] { new[] { 1f, 10f }, [2f, 10f], [3f, 10f], [4f, 10f] }) stats.Add(g);
        Assert.AreEqual(2.5, stats.Mean(0));
        Assert.AreEqual(5.0 / 3, stats.Variance(0), 1e-15, "Σ(x − 2.5)² = 5 over N − 1 = 3");
        Assert.AreEqual(0.0, stats.Variance(1));
        var s = stats.Summarize([new ParameterGroup("all", [new ParameterRange("all", 0, 2)])]).Groups[0];
        Assert.AreEqual(6.25, s.MeanOfMeans, 1e-15);
        Assert.AreEqual(5.0 / 6, s.MeanVariance, 1e-15);
        Assert.AreEqual((1 + 4 + 9 + 16) / 4.0 + 100, s.MeanSquaredNorm, 1e-12, "mean over draws of ||g||²");
        Assert.AreEqual(2.5 * 2.5 + 100, s.SquaredNormOfMean, 1e-12);
        Assert.IsTrue(double.IsNaN(new GradientVarianceStatistics(1).Variance(0)), "no variance before two draws");
    }

    [TestMethod]
    public void SummaryRecoversKnownMeansAndVariances()
    {
        double[] means = [1, -2, 0.5, 0, 10, 10], sds = [1, 2, 0.5, 3, 0.1, 0.1];
        const int draws = 20_000;
        var summary = Draw(11, draws, means, sds).Summarize(TwoGroups);
        Assert.AreEqual(draws, summary.Draws);
        var w = summary.Groups[0];
        var b = summary.Groups[1];
        Assert.AreEqual(4, w.Elements);
        Assert.AreEqual(2, b.Elements);
        // The mean of four means, each with se sd/√N: sd of the average = √(1+4+0.25+9)/4/√N = 0.0067; 4 se.
        Assert.AreEqual(-0.125, w.MeanOfMeans, 0.027);
        Assert.AreEqual(10.0, b.MeanOfMeans, 0.003);
        // Variance estimates have relative sd √(2/N) = 1%; the mean of four is dominated by the 9: 4%.
        Assert.AreEqual((1 + 4 + 0.25 + 9) / 4.0, w.MeanVariance, 0.04 * 3.5625);
        Assert.AreEqual(0.01, b.MeanVariance, 0.0004);
        Assert.AreEqual(5.25 + 14.25, w.MeanSquaredNorm, 0.04 * 19.5, "E||g||² = ||μ||² + Σσ²");
        Assert.AreEqual(5.25, w.SquaredNormOfMean, 0.1);
        Assert.AreEqual(200.02, b.MeanSquaredNorm, 0.1);
    }

    [TestMethod]
    public void UnbiasedEstimatorsAgreeAndABiasedOneDoesNot()
    {
        // 2,000 elements of mixed means; B has three times A's standard deviation, C is A shifted by one sd
        // (seven standard errors of the difference at 500 draws each).
        const int elements = 2000, draws = 500;
        var random = new Random(3);
        double[] means = [.. Enumerable.Range(0, elements).Select(_ => random.NextDouble() * 4 - 2)];
        double[] sds = [.. Enumerable.Range(0, elements).Select(_ => 0.5 + random.NextDouble())];
        var a = Draw(21, draws, means, sds);
        var b = Draw(22, draws, means, [.. sds.Select(s => 3 * s)]);
        var c = Draw(23, draws, [.. means.Select((m, i) => m + sds[i])], sds);
        ParameterGroup[] groups = [new("first half", [new ParameterRange("x", 0, elements / 2)]), new("second half", [new ParameterRange("y", elements / 2, elements / 2)])];

        var unbiased = GradientVarianceStatistics.Compare(a, b, groups, z: 3);
        var biased = GradientVarianceStatistics.Compare(a, c, groups, z: 3);
        TestContext.WriteLine($"A against B (unbiased): {unbiased.ToJson()}");
        TestContext.WriteLine($"A against C (biased): {biased.ToJson()}");
        foreach (var g in unbiased.Groups)
        {
            Assert.AreEqual(1.0 / 9, g.VarianceRatio, 0.01, g.Name);
            Assert.AreEqual(0.9973, g.ExpectedAgreementShare, 1e-4);
            Assert.IsGreaterThanOrEqualTo(0.99, g.AgreementShare, g.Name);  // 1,000 elements: expected 997.3, sd 1.6
            Assert.AreEqual(1.0, g.ReducedChiSquare, 0.15, g.Name);          // mean of 1,000 chi-square(1): sd 0.045
        }

        foreach (var g in biased.Groups)
        {
            Assert.AreEqual(1.0, g.VarianceRatio, 0.1, g.Name);
            Assert.IsLessThan(0.5, g.AgreementShare, g.Name);
            Assert.IsGreaterThan(20.0, g.ReducedChiSquare, g.Name);  // (1 / √(2/500))² = 250 expected
        }
    }

    [TestMethod]
    public void SummaryAndComparisonRoundTripThroughJson()
    {
        var a = Draw(1, 50, [1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 0]);
        var b = Draw(2, 40, [1, 2, 3, 4, 5, 6], [2, 2, 2, 2, 0, 0]);
        var summary = a.Summarize(TwoGroups);
        var back = GradientVarianceSummary.FromJson(summary.ToJson());
        Assert.AreEqual(summary.Draws, back.Draws);
        CollectionAssert.AreEqual(summary.Groups.ToArray(), back.Groups.ToArray(), "every double read back bit for bit");

        // The biases are constant in both: variance ratio 0/0 and no element with a standard error.
        var comparison = GradientVarianceStatistics.Compare(a, b, TwoGroups);
        Assert.IsTrue(double.IsNaN(comparison.Groups[1].ReducedChiSquare));
        Assert.AreEqual(1.0, comparison.Groups[1].AgreementShare, "equal constants agree");
        string json = comparison.ToJson();
        StringAssert.Contains(json, "\"reduced_chi_square\": \"NaN\"");
        var read = GradientComparison.FromJson(json);
        Assert.AreEqual(comparison.Z, read.Z);
        Assert.AreEqual(50L, read.DrawsA);
        Assert.AreEqual(40L, read.DrawsB);
        CollectionAssert.AreEqual(comparison.Groups.ToArray(), read.Groups.ToArray());
        Assert.ThrowsExactly<FormatException>(() => GradientComparison.FromJson("{ not json"));
    }

    [TestMethod]
    public void GroupsPerTensorCoverTheLayoutAndBadRangesAreRejected()
    {
        var layout = new ParameterLayout(new VaeConfig { Input = 4, Hidden = [3], Latent = 2, ImageHeight = 2, ImageWidth = 2 });
        var groups = ParameterGroup.PerTensor(layout);
        CollectionAssert.AreEqual(layout.Tensors.Select(t => t.Name).ToArray(), groups.Select(g => g.Name).ToArray());
        Assert.AreEqual(layout.ParameterCount, groups.Sum(g => (long)g.Elements));
        var stats = new GradientVarianceStatistics(layout.Length);
        stats.Add(new float[layout.Length]);
        stats.Add(new float[layout.Length]);
        Assert.AreEqual(0.0, stats.Summarize(groups).Groups.Sum(g => g.MeanVariance));
        Assert.ThrowsExactly<ArgumentException>(() => stats.Summarize([new ParameterGroup("past the end", [new ParameterRange("x", layout.Length - 1, 2)])]));
        Assert.ThrowsExactly<ArgumentException>(() => stats.Add(new float[layout.Length + 1]));
    }
}
