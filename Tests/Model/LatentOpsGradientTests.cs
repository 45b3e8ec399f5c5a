using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The gradients of the latent-hierarchy and GAN ops on the CPU accelerator against central finite
/// differences of double-precision forwards written here from the definitions (precisions and variances
/// formed directly, not the ops' stable rewrites): GaussianKl to all four of q's and p's means and
/// logvars, PrecisionMergeBackward to all four inputs through a random linear functional of the merged
/// stats, and LogisticLoss to its logits for each of a GAN's target and scale pairings.
/// </summary>
[TestClass]
public sealed class LatentOpsGradientTests
{
    /// <summary>Central difference of f at x[k], a step relative to the value.</summary>
    private static double CentralDifference(Func<double[], double> f, double[] x, int k)
    {
        double saved = x[k], h = 1e-5 * Math.Max(1, Math.Abs(saved));
        x[k] = saved + h;
        double up = f(x);
        x[k] = saved - h;
        double down = f(x);
        x[k] = saved;
        return (up - down) / (2 * h);
    }

    private static void AssertGradient(Func<double[], double> f, double[] x, float[] analytic, string what)
    {
        Assert.HasCount(x.Length, analytic);
        for (int k = 0; k < x.Length; k++)
        {
            double numeric = CentralDifference(f, x, k);
            Assert.AreEqual(numeric, analytic[k], 1e-4 * Math.Abs(numeric) + 2e-5, $"{what}[{k}]: finite difference {numeric:G9}, op {analytic[k]:G9}");
        }
    }

    private static double[] Stats(Random rng, int rows, int latent, double muRange, double lvLo, double lvHi)
    {
        var stats = new double[2 * rows * latent];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < 2 * latent; j++)
            stats[i * 2 * latent + j] = j < latent ? muRange * (2 * rng.NextDouble() - 1) : lvLo + (lvHi - lvLo) * rng.NextDouble();
        // The float values the op sees, so that both sides differentiate at the same point.
        return stats.Select(v => (double)(float)v).ToArray();
    }

    private static float[] Float(double[] values) => values.Select(v => (float)v).ToArray();

    /// <summary>sum_i weight KL(N(mq, exp(lq)) || N(mp, exp(lp))) from the definition, with the variances formed.</summary>
    private static double WeightedKl(double[] q, double[] p, int rows, int latent, double weight)
    {
        double total = 0;
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int mu = i * 2 * latent + j, lv = mu + latent;
            double varQ = Math.Exp(q[lv]), varP = Math.Exp(p[lv]), d = q[mu] - p[mu];
            total += weight * 0.5 * (p[lv] - q[lv] + (varQ + d * d) / varP - 1);
        }
        return total;
    }

    [TestMethod]
    [DataRow(3, 4, 0.8f, -2.0, 2.0)]
    [DataRow(2, 5, 1.5f, -6.0, 6.0)]
    [DataRow(1, 1, 1f, -0.5, 0.5)]
    public void GaussianKlGradientsMatchFiniteDifferences(int rows, int latent, float weight, double lvLo, double lvHi)
    {
        var rng = new Random(601 + rows * latent);
        var q = Stats(rng, rows, latent, 2, lvLo, lvHi);
        var p = Stats(rng, rows, latent, 2, lvLo, lvHi);
        using var acc = new CpuAccelerator();
        using var dQ = acc.Upload<float>(Float(q));
        using var dP = acc.Upload<float>(Float(p));
        using var loss = acc.Allocate<float>(rows);
        using var gq = acc.Allocate<float>(q.Length);
        using var gp = acc.Allocate<float>(p.Length);
        acc.Fill(loss.View, 0f); acc.Fill(gq.View, 0f); acc.Fill(gp.View, 0f);
        acc.GaussianKl(dQ, dP, rows, latent, weight, loss, gq, gp);

        double forward = WeightedKl(q, p, rows, latent, weight);
        double opTotal = acc.Download(loss.View).Sum(v => (double)v);
        Assert.AreEqual(forward, opTotal, 1e-5 * Math.Abs(forward) + 1e-6, "the op's loss against the double forward");
        AssertGradient(x => WeightedKl(x, p, rows, latent, weight), q, acc.Download(gq.View), "dq");
        AssertGradient(x => WeightedKl(q, x, rows, latent, weight), p, acc.Download(gp.View), "dp");
    }

    /// <summary>The Ladder VAE's merge from its definition: precisions a = exp(−l1), b = exp(−l2) formed directly.</summary>
    private static double[] Merge(double[] bottomUp, double[] topDown, int rows, int latent)
    {
        var merged = new double[bottomUp.Length];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int mu = i * 2 * latent + j, lv = mu + latent;
            double a = Math.Exp(-bottomUp[lv]), b = Math.Exp(-topDown[lv]);
            merged[mu] = (bottomUp[mu] * a + topDown[mu] * b) / (a + b);
            merged[lv] = -Math.Log(a + b);
        }
        return merged;
    }

    private static double Functional(double[] c, double[] merged)
    {
        double sum = 0;
        for (int k = 0; k < c.Length; k++) sum += c[k] * merged[k];
        return sum;
    }

    [TestMethod]
    [DataRow(3, 4, -2.0, 2.0)]
    [DataRow(2, 5, -7.0, 7.0)]
    [DataRow(1, 1, 0.0, 0.0)]   // equal logvars: weights of 1/2
    public void PrecisionMergeBackwardMatchesFiniteDifferencesOfALinearFunctional(int rows, int latent, double lvLo, double lvHi)
    {
        var rng = new Random(611 + rows * latent);
        var bottomUp = Stats(rng, rows, latent, 3, lvLo, lvHi);
        var topDown = Stats(rng, rows, latent, 3, lvLo, lvHi);
        var c = Stats(rng, rows, latent, 1.5, -1.5, 1.5);
        using var acc = new CpuAccelerator();
        using var bu = acc.Upload<float>(Float(bottomUp));
        using var td = acc.Upload<float>(Float(topDown));
        using var dMerged = acc.Upload<float>(Float(c));
        using var merged = acc.Allocate<float>(bottomUp.Length);
        using var dBu = acc.Allocate<float>(bottomUp.Length);
        using var dTd = acc.Allocate<float>(topDown.Length);
        acc.Fill(dBu.View, 0f); acc.Fill(dTd.View, 0f);
        acc.PrecisionMerge(bu, td, rows, latent, merged);
        acc.PrecisionMergeBackward(bu, td, dMerged, rows, latent, dBu, dTd);

        var forward = Merge(bottomUp, topDown, rows, latent);
        var opMerged = acc.Download(merged.View);
        for (int k = 0; k < forward.Length; k++)
            Assert.AreEqual(forward[k], opMerged[k], 2e-6 * Math.Abs(forward[k]) + 1e-6, $"merged[{k}] against the double forward");
        AssertGradient(x => Functional(c, Merge(x, topDown, rows, latent)), bottomUp, acc.Download(dBu.View), "dBottomUp");
        AssertGradient(x => Functional(c, Merge(bottomUp, x, rows, latent)), topDown, acc.Download(dTd.View), "dTopDown");
    }

    /// <summary>sum_i scale * −[t log sigmoid(l_i) + (1 − t) log(1 − sigmoid(l_i))], sigmoid formed directly.</summary>
    private static double LogisticTotal(double[] logits, double target, double scale)
    {
        double total = 0;
        foreach (double l in logits)
        {
            double s = 1 / (1 + Math.Exp(-l));
            total += scale * -(target * Math.Log(s) + (1 - target) * Math.Log(1 - s));
        }
        return total;
    }

    [TestMethod]
    [DataRow(1f, 1f)]
    [DataRow(0f, 1f)]
    [DataRow(0f, -1f)]
    [DataRow(0.9f, 0.5f)]
    public void LogisticLossGradientMatchesFiniteDifferences(float target, float scale)
    {
        const int rows = 13;
        var rng = new Random(621);
        var logits = Enumerable.Range(0, rows).Select(_ => (double)(float)(12 * rng.NextDouble() - 6)).ToArray();
        using var acc = new CpuAccelerator();
        using var l = acc.Upload<float>(Float(logits));
        using var loss = acc.Allocate<float>(rows);
        using var d = acc.Allocate<float>(rows);
        acc.LogisticLoss(l, rows, target, scale, loss, d);

        double forward = LogisticTotal(logits, target, scale);
        double opTotal = acc.Download(loss.View).Sum(v => (double)v);
        Assert.AreEqual(forward, opTotal, 1e-5 * Math.Abs(forward) + 1e-6, "the op's loss against the double forward");
        AssertGradient(x => LogisticTotal(x, target, scale), logits, acc.Download(d.View), $"dlogits target {target} scale {scale}");
    }
}
