using IlgpuVae.Kernels;
using MathNet.Numerics.Distributions;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// Reparameterised sampling: the draws are the contract's Philox4x32-10 + Box–Muller numbers (the C#
/// Philox class, itself held to the Random123 known answers), they are standard normal, and the
/// backward accumulates the reparameterisation's gradient.
/// </summary>
public abstract partial class KernelConformance
{
    // Box–Muller goes through log, sqrt, sin and cos: a few ulps of each on a GPU.
    private const double EpsRelative = 1e-5, EpsAbsolute = 2e-6;

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(3, 5)]
    [DataRow(128, 20)]
    [DataRow(7, 33)]
    public void SampleLatentDrawsThePhiloxNormalsAndReparameterises(int rows, int latent)
    {
        var random = new RandomSource(0x0123456789ABCDEFUL, 17, RandomStream.Latent);
        var stats = RandomFloats(81, 2 * rows * latent, -3f, 3f);
        var (statsBuffer, statsView) = UploadAtOffset(stats, 2);
        var (epsBuffer, epsView) = UploadAtOffset(Filled(rows * latent, float.NaN), 1);
        var (zBuffer, zView) = UploadAtOffset(Filled(rows * latent, float.NaN), 3);
        using (statsBuffer) using (epsBuffer) using (zBuffer)
        {
            Acc.SampleLatent(statsView, rows, latent, random, epsView, zView);
            var eps = Download(epsView);
            var z = Download(zView);
            var expectedEps = new double[rows * latent];
            var expectedZ = new double[rows * latent];
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < latent; j++)
            {
                int e = i * latent + j;
                expectedEps[e] = Philox.Normal(e, random);
                double mu = stats[i * 2 * latent + j], logvar = stats[i * 2 * latent + latent + j];
                expectedZ[e] = mu + Math.Exp(logvar / 2) * eps[e];
            }
            AssertClose(expectedEps, eps, EpsRelative, EpsAbsolute, $"eps {rows}x{latent}");
            AssertClose(expectedZ, z, 4e-6, 1e-6, $"z {rows}x{latent}");
            AssertGuardsIntact(epsBuffer, 1, rows * latent, "eps buffer");
            AssertGuardsIntact(zBuffer, 3, rows * latent, "z buffer");
        }
    }

    /// <summary>
    /// A draw with an element offset is the matching stretch of one larger draw, whatever the offset's
    /// place in a Philox group of four: ranks of a parallel run draw exactly the single-process noise.
    /// </summary>
    [TestMethod]
    [DataRow(3, 5, 1u)]
    [DataRow(3, 5, 2u)]
    [DataRow(4, 7, 3u)]
    [DataRow(2, 20, 40u)]
    [DataRow(1, 1, 4097u)]
    public void SampleLatentWithAnOffsetDrawsItsStretchOfTheWholeDraw(int rows, int latent, uint offset)
    {
        var whole = new RandomSource(99, 5, RandomStream.Latent);
        int total = (int)offset + rows * latent;
        using var wholeStats = Upload(new float[2 * total]);
        using var wholeEps = Acc.Allocate<float>(total);
        using var wholeZ = Acc.Allocate<float>(total);
        Acc.SampleLatent(wholeStats, total, 1, whole, wholeEps, wholeZ);
        var expected = Download(wholeEps).AsSpan((int)offset).ToArray();

        using var stats = Upload(new float[2 * rows * latent]);
        using var eps = Acc.Allocate<float>(rows * latent);
        using var z = Acc.Allocate<float>(rows * latent);
        Acc.SampleLatent(stats, rows, latent, whole with { Offset = offset }, eps, z);
        var got = Download(eps);
        for (int e = 0; e < got.Length; e++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[e]), BitConverter.SingleToInt32Bits(got[e]),
                $"offset {offset}, element {e}: {got[e]:R}, the whole draw has {expected[e]:R}");
            Assert.AreEqual(Philox.Normal(e, whole with { Offset = offset }), got[e], EpsAbsolute + EpsRelative * Math.Abs(got[e]));
        }
    }

    [TestMethod]
    public void SampledEpsIsStandardNormal()
    {
        const int rows = 5000, latent = 20, count = rows * latent;
        using var stats = Upload(new float[2 * count]);
        using var eps = Acc.Allocate<float>(count);
        using var z = Acc.Allocate<float>(count);
        Acc.SampleLatent(stats, rows, latent, new RandomSource(20240901, 3, RandomStream.Latent), eps, z);
        var draws = Download(eps).Select(v => (double)v).ToArray();
        // With mu = 0 and logvar = 0, z is eps itself.
        CollectionAssert.AreEqual(Download(eps), Download(z), "z = eps when mu = 0, logvar = 0");

        double mean = draws.Average();
        double variance = draws.Select(v => (v - mean) * (v - mean)).Sum() / (count - 1);
        double skew = draws.Select(v => Math.Pow(v - mean, 3)).Average() / Math.Pow(variance, 1.5);
        double kurtosis = draws.Select(v => Math.Pow(v - mean, 4)).Average() / (variance * variance);
        // Five standard errors: a correct sampler fails these with probability below 1e-6.
        Assert.IsLessThan(5 / Math.Sqrt(count), Math.Abs(mean), $"mean {mean}");
        Assert.IsLessThan(5 * Math.Sqrt(2.0 / count), Math.Abs(variance - 1), $"variance {variance}");
        Assert.IsLessThan(5 * Math.Sqrt(6.0 / count), Math.Abs(skew), $"skewness {skew}");
        Assert.IsLessThan(5 * Math.Sqrt(24.0 / count), Math.Abs(kurtosis - 3), $"kurtosis {kurtosis}");

        // Kolmogorov–Smirnov against the standard normal CDF; 1.95 / sqrt(n) is the 0.1% critical value.
        Array.Sort(draws);
        double d = 0;
        for (int i = 0; i < count; i++)
        {
            double cdf = Normal.CDF(0, 1, draws[i]);
            d = Math.Max(d, Math.Max((i + 1.0) / count - cdf, cdf - (double)i / count));
        }
        Assert.IsLessThan(1.95 / Math.Sqrt(count), d, $"Kolmogorov–Smirnov statistic {d}");
        Assert.IsGreaterThan(4.0, draws[^1], "no draw beyond 4 sigma in 100k: the tails are cut");
        Assert.IsLessThan(-4.0, draws[0], "no draw beyond -4 sigma in 100k: the tails are cut");
    }

    [TestMethod]
    public void DifferentStepsStreamsAndSeedsDrawDifferentEps()
    {
        const int rows = 64, latent = 20;
        var baseSource = new RandomSource(7, 100, RandomStream.Latent);
        var reference = Draw(baseSource);
        CollectionAssert.AreEqual(reference, Draw(baseSource), "the same (seed, step, stream) must draw the same eps");
        foreach (var other in new[]
                 {
                     baseSource with { Step = 101 }, baseSource with { Stream = RandomStream.Prior },
                     baseSource with { Seed = 8 }, baseSource with { Seed = 7UL | (1UL << 32) },
                 })
        {
            var draws = Draw(other);
            int same = reference.Zip(draws).Count(p => p.First == p.Second);
            Assert.IsLessThan(3, same, $"{other}: {same} of {reference.Length} eps equal to {baseSource}'s");
            // Each draw is still the contract's number for its own counter.
            Assert.AreEqual((double)Philox.Normal(37, other), draws[37], 1e-5 * (1 + Math.Abs(draws[37])), $"{other}: element 37");
        }

        float[] Draw(RandomSource source)
        {
            using var stats = Upload(new float[2 * rows * latent]);
            using var eps = Acc.Allocate<float>(rows * latent);
            using var z = Acc.Allocate<float>(rows * latent);
            Acc.SampleLatent(stats, rows, latent, source, eps, z);
            return Download(eps);
        }
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(128, 20)]
    [DataRow(9, 7)]
    public void SampleLatentBackwardAccumulatesTheReparameterisationGradient(int rows, int latent)
    {
        var stats = RandomFloats(91, 2 * rows * latent, -3f, 3f);
        var eps = RandomFloats(92, rows * latent, -2.5f, 2.5f);
        var dz = RandomFloats(93, rows * latent, -1f, 1f);
        var initial = RandomFloats(94, 2 * rows * latent, -0.5f, 0.5f);
        var (dsBuffer, dsView) = UploadAtOffset(initial, 4);
        using var dStats = Upload(stats);
        using var dEps = Upload(eps);
        using var dDz = Upload(dz);
        using (dsBuffer)
        {
            Acc.SampleLatentBackward(dStats, dEps, dDz, rows, latent, dsView);
            var expected = ToDouble(initial);
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < latent; j++)
            {
                int e = i * latent + j, mu = i * 2 * latent + j, lv = mu + latent;
                expected[mu] += dz[e];
                expected[lv] += dz[e] * eps[e] * 0.5 * Math.Exp(0.5 * stats[lv]);
            }
            AssertClose(expected, Download(dsView), 4e-6, 1e-6, $"dstats {rows}x{latent}");
            AssertGuardsIntact(dsBuffer, 4, initial.Length, "dstats buffer");
        }
    }
}
