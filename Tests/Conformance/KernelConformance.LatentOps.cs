using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// The latent-hierarchy and GAN ops against scalar double references written here: the Gaussian KL
/// (accumulated onto known values, the per-sample KL overwritten or left alone), the precision-weighted
/// merge and its backward (accumulated), and the logistic loss, on ragged shapes, with logvars of ±20
/// staying finite, and their validation, which throws before any launch and leaves outputs untouched.
/// Tolerances follow the magnitudes of each element's parts, so a GPU's exp and log meet them too.
/// </summary>
public abstract partial class KernelConformance
{
    /// <summary>Stats rows x (mu | logvar), mu in [muLo, muHi], logvar in [lvLo, lvHi].</summary>
    private static float[] RandomStats(int seed, int rows, int latent, float muLo, float muHi, float lvLo, float lvHi)
    {
        var mu = RandomFloats(seed, rows * latent, muLo, muHi);
        var logvar = RandomFloats(seed + 1, rows * latent, lvLo, lvHi);
        var stats = new float[2 * rows * latent];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            stats[i * 2 * latent + j] = mu[i * latent + j];
            stats[i * 2 * latent + latent + j] = logvar[i * latent + j];
        }
        return stats;
    }

    /// <summary>
    /// The reference of <see cref="Accelerator.GaussianKl"/> in double, accumulated onto the initial values,
    /// with a tolerance per element: a few parts in a million of the magnitudes that make it up, the row's
    /// float sum growing with latent, and the final rounding of what it is added to.
    /// </summary>
    private static (double[] Loss, double[] LossTol, double[] Kl, double[] KlTol, double[] Dq, double[] DqTol, double[] Dp, double[] DpTol)
        KlReference(float[] q, float[] p, int rows, int latent, float weight, float[] loss0, float[] dq0, float[] dp0)
    {
        var loss = ToDouble(loss0); var dq = ToDouble(dq0); var dp = ToDouble(dp0);
        var kl = new double[rows];
        var lossTol = new double[rows]; var klTol = new double[rows];
        var dqTol = new double[dq.Length]; var dpTol = new double[dp.Length];
        double w = weight;
        for (int i = 0; i < rows; i++)
        {
            double sum = 0, scale = 0;
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, lv = mu + latent;
                double mq = q[mu], lq = q[lv], mp = p[mu], lp = p[lv];
                double varQ = Math.Exp(lq), varP = Math.Exp(lp), d = mq - mp;
                double ratio = varQ / varP, mean = d * d / varP;
                sum += lp - lq + (varQ + d * d) / varP - 1;
                double parts = Math.Abs(lp) + Math.Abs(lq) + ratio + mean + 1;
                scale += parts;
                double gMu = d / varP, gLq = (ratio - 1) / 2, gLp = (1 - ratio - mean) / 2;
                dq[mu] += w * gMu; dp[mu] -= w * gMu;
                dq[lv] += w * gLq; dp[lv] += w * gLp;
                dqTol[mu] = 4e-6 * w * Math.Abs(gMu) + 2e-7 * Math.Abs(dq[mu]) + 1e-6;
                dpTol[mu] = 4e-6 * w * Math.Abs(gMu) + 2e-7 * Math.Abs(dp[mu]) + 1e-6;
                dqTol[lv] = 4e-6 * w * (ratio + 1) + 2e-7 * Math.Abs(dq[lv]) + 1e-6;
                dpTol[lv] = 4e-6 * w * (ratio + mean + 1) + 2e-7 * Math.Abs(dp[lv]) + 1e-6;
            }
            kl[i] = sum / 2;
            klTol[i] = (4e-6 + 1e-7 * latent) * scale + 1e-6;
            loss[i] += w * kl[i];
            lossTol[i] = w * klTol[i] + 2e-7 * Math.Abs(loss[i]) + 1e-6;
        }
        return (loss, lossTol, kl, klTol, dq, dqTol, dp, dpTol);
    }

    /// <summary>Runs GaussianKl on views at offsets over pre-filled outputs and checks every output and guard; returns the outputs.</summary>
    private List<(string Name, float[] Values)> CheckGaussianKl(float[] q, float[] p, int rows, int latent, float weight, bool withKl, string what)
    {
        var loss0 = RandomFloats(503 + rows, rows, 10f, 200f);
        var dq0 = RandomFloats(504 + latent, 2 * rows * latent, -1f, 1f);
        var dp0 = RandomFloats(505 + latent, 2 * rows * latent, -1f, 1f);
        var (qBuffer, qView) = UploadAtOffset(q, 2);
        var (pBuffer, pView) = UploadAtOffset(p, 5);
        var (lossBuffer, lossView) = UploadAtOffset(loss0, 1);
        var (dqBuffer, dqView) = UploadAtOffset(dq0, 3);
        var (dpBuffer, dpView) = UploadAtOffset(dp0, 4);
        var (klBuffer, klView) = UploadAtOffset(Filled(rows, float.NaN), 6);
        using (qBuffer) using (pBuffer) using (lossBuffer) using (dqBuffer) using (dpBuffer) using (klBuffer)
        {
            Acc.GaussianKl(qView, pView, rows, latent, weight, lossView, dqView, dpView, withKl ? klView : default);

            var r = KlReference(q, p, rows, latent, weight, loss0, dq0, dp0);
            var outLoss = Download(lossView); var outDq = Download(dqView); var outDp = Download(dpView);
            AssertClose(r.Loss, outLoss, i => r.LossTol[i], $"{what}: per-sample loss");
            AssertClose(r.Dq, outDq, i => r.DqTol[i], $"{what}: dq");
            AssertClose(r.Dp, outDp, i => r.DpTol[i], $"{what}: dp");
            AssertGuardsIntact(lossBuffer, 1, rows, $"{what}: loss buffer");
            AssertGuardsIntact(dqBuffer, 3, dq0.Length, $"{what}: dq buffer");
            AssertGuardsIntact(dpBuffer, 4, dp0.Length, $"{what}: dp buffer");
            AssertGuardsIntact(klBuffer, 6, rows, $"{what}: kl buffer");
            CollectionAssert.AreEqual(q, Download(qView), $"{what}: q changed");
            CollectionAssert.AreEqual(p, Download(pView), $"{what}: p changed");
            var results = new List<(string, float[])> { ("loss", outLoss), ("dq", outDq), ("dp", outDp) };
            if (withKl)
            {
                var outKl = Download(klView);
                AssertClose(r.Kl, outKl, i => r.KlTol[i], $"{what}: per-sample KL");
                results.Add(("kl", outKl));
            }
            else
            {
                Assert.IsTrue(Download(klView).All(float.IsNaN), $"{what}: the KL buffer was written though not passed");
            }
            return results;
        }
    }

    [TestMethod]
    [DataRow(1, 1, 1f, true)]
    [DataRow(1, 100, 0.5f, true)]
    [DataRow(7, 3, 1f, false)]
    [DataRow(7, 50, 2.5f, true)]
    [DataRow(130, 1, 0.25f, true)]
    [DataRow(130, 100, 1f, false)]
    [DataRow(130, 50, 0f, true)]   // weight 0: the KL is still reported, nothing else moves
    public void GaussianKlAccumulatesTheDoubleReference(int rows, int latent, float weight, bool withKl)
    {
        var q = RandomStats(501, rows, latent, -2f, 2f, -3f, 3f);
        var p = RandomStats(502, rows, latent, -2f, 2f, -3f, 3f);
        CheckGaussianKl(q, p, rows, latent, weight, withKl, $"KL {rows}x{latent} weight {weight}");
    }

    [TestMethod]
    [DataRow(7, 3)]
    [DataRow(130, 50)]
    public void GaussianKlStaysFiniteAndAccurateAtExtremeLogvars(int rows, int latent)
    {
        // Every pairing of ±20 and 0 for lq and lp (ratios up to exp(40), precisions up to exp(20)), means up to ±5.
        float[] logvars = [20f, -20f, 0f];
        var q = RandomStats(511, rows, latent, -5f, 5f, 0f, 0f);
        var p = RandomStats(512, rows, latent, -5f, 5f, 0f, 0f);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int k = i * latent + j;
            q[i * 2 * latent + latent + j] = logvars[k % 3];
            p[i * 2 * latent + latent + j] = logvars[k / 3 % 3];
        }
        var outputs = CheckGaussianKl(q, p, rows, latent, 0.75f, withKl: true, $"KL extremes {rows}x{latent}");
        foreach (var (name, values) in outputs) AssertAllFinite(values, $"KL extremes {rows}x{latent}: {name}");
    }

    [TestMethod]
    public void GaussianKlOfAGaussianWithItselfIsZero()
    {
        const int rows = 7, latent = 50;
        var q = RandomStats(521, rows, latent, -3f, 3f, -20f, 20f);
        using var dQ = Upload(q);
        using var loss = Upload(Filled(rows, 3f));
        using var dq = Upload(new float[2 * rows * latent]);
        using var dp = Upload(new float[2 * rows * latent]);
        using var kl = Upload(Filled(rows, float.NaN));
        // q and p the same view: every term is (l − l) + (exp(0) − 1) + 0.
        Acc.GaussianKl(dQ, dQ, rows, latent, 1f, loss, dq, dp, kl);
        AssertClose(new double[rows], Download(kl), 0, 1e-6, "KL(q || q)");
        AssertClose(Enumerable.Repeat(3.0, rows).ToArray(), Download(loss), 0, 1e-6, "loss + KL(q || q)");
        AssertClose(new double[dq.Length], Download(dq), 0, 1e-6, "dq");
        AssertClose(new double[dp.Length], Download(dp), 0, 1e-6, "dp");
    }

    [TestMethod]
    public void GaussianKlRejectsWrongShapesSettingsAndOverlaps()
    {
        const int rows = 3, latent = 4, n = 2 * rows * latent;
        using var q = Upload(RandomFloats(531, n));
        using var p = Upload(RandomFloats(532, n));
        using var outputs = Upload(Filled(2 * n + 2 * rows, Guard));
        DeviceView<float> dq = outputs.Slice(0, n), dp = outputs.Slice(n, n), loss = outputs.Slice(2 * n, rows), kl = outputs.Slice(2 * n + rows, rows);
        long launches = Acc.Counters.Launches;
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q.Slice(0, n - 1), p, rows, latent, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p.Slice(1, n - 1), rows, latent, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss.Slice(0, rows - 1), dq, dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss, dq.Slice(0, n - 1), dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss, dq, dp.Slice(1, n - 1), kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss, dq, dp, kl.Slice(0, rows - 1)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent + 1, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(default, p, rows, latent, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GaussianKl(q, p, 0, latent, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GaussianKl(q, p, rows, 0, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GaussianKl(q, p, rows, latent, -0.5f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GaussianKl(q, p, rows, latent, float.NaN, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GaussianKl(q, p, rows, latent, float.PositiveInfinity, loss, dq, dp, kl));
        // Overlaps: the gradients with each other and with an input, the losses with a gradient and with each other.
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss, dq, outputs.Slice(n - 1, n), kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(outputs.Slice(1, n), p, rows, latent, 1f, loss, dq.Slice(0, n), dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, outputs.Slice(n + 2, n), rows, latent, 1f, loss, dq, dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, outputs.Slice(2 * n - 1, rows), dq, dp, kl));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss, dq, dp, outputs.Slice(2 * n + 1, rows)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GaussianKl(q, p, rows, latent, 1f, loss, dq, dp, loss));
        Assert.IsTrue(Download(outputs).All(v => v == Guard), "a rejected op wrote to its outputs");
        Assert.AreEqual(launches, Acc.Counters.Launches, "a rejected op launched a kernel");
    }

    /// <summary>The merge in double from its definition: precisions a, b; logvar −log(a + b), mu (m1 a + m2 b) / (a + b).</summary>
    private static (double Mu, double Logvar, double W1, double W2) MergeReference(double m1, double l1, double m2, double l2)
    {
        // Relative to the larger precision, so that logvars of ±20 (and beyond) neither overflow nor underflow.
        double top = Math.Max(-l1, -l2), a = Math.Exp(-l1 - top), b = Math.Exp(-l2 - top);
        return ((m1 * a + m2 * b) / (a + b), -(top + Math.Log(a + b)), a / (a + b), b / (a + b));
    }

    [TestMethod]
    [DataRow(1, 1, false)]
    [DataRow(7, 3, false)]
    [DataRow(7, 100, true)]
    [DataRow(130, 50, false)]
    [DataRow(130, 1, true)]
    public void PrecisionMergeMatchesTheDoubleReference(int rows, int latent, bool extremes)
    {
        var bottomUp = RandomStats(541, rows, latent, -3f, 3f, -4f, 4f);
        var topDown = RandomStats(543, rows, latent, -3f, 3f, -4f, 4f);
        if (extremes) SetExtremeLogvars(bottomUp, topDown, rows, latent);
        var (buBuffer, buView) = UploadAtOffset(bottomUp, 2);
        var (tdBuffer, tdView) = UploadAtOffset(topDown, 3);
        var (mBuffer, mView) = UploadAtOffset(Filled(2 * rows * latent, float.NaN), 5);
        using (buBuffer) using (tdBuffer) using (mBuffer)
        {
            Acc.PrecisionMerge(buView, tdView, rows, latent, mView);
            var expected = new double[2 * rows * latent];
            var tolerance = new double[expected.Length];
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, lv = mu + latent;
                var (m, s, w1, w2) = MergeReference(bottomUp[mu], bottomUp[lv], topDown[mu], topDown[lv]);
                expected[mu] = m;
                expected[lv] = s;
                tolerance[mu] = 4e-6 * (w1 * Math.Abs(bottomUp[mu]) + w2 * Math.Abs(topDown[mu])) + 1e-6;
                tolerance[lv] = 2e-6 * (Math.Abs(s) + 1) + 1e-6;
            }
            string what = $"merge {rows}x{latent}{(extremes ? " extremes" : "")}";
            var merged = Download(mView);
            AssertClose(expected, merged, i => tolerance[i], what);
            AssertAllFinite(merged, what);
            AssertGuardsIntact(mBuffer, 5, expected.Length, $"{what}: merged buffer");
            CollectionAssert.AreEqual(bottomUp, Download(buView), $"{what}: bottomUp changed");
            CollectionAssert.AreEqual(topDown, Download(tdView), $"{what}: topDown changed");
        }
    }

    /// <summary>Logvars of ±20 and 0 against each other in every pairing (weights down to exp(−40)), means kept.</summary>
    private static void SetExtremeLogvars(float[] first, float[] second, int rows, int latent)
    {
        float[] logvars = [20f, -20f, 0f];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int k = i * latent + j;
            first[i * 2 * latent + latent + j] = logvars[k % 3];
            second[i * 2 * latent + latent + j] = logvars[(k / 3 + 1) % 3];
        }
    }

    [TestMethod]
    public void PrecisionMergeOfAGaussianWithItselfHalvesTheVariance()
    {
        const int rows = 7, latent = 3;
        var stats = RandomStats(545, rows, latent, -3f, 3f, -20f, 20f);
        using var s = Upload(stats);
        using var merged = Upload(Filled(stats.Length, float.NaN));
        Acc.PrecisionMerge(s, s, rows, latent, merged);
        var expected = new double[stats.Length];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int mu = i * 2 * latent + j;
            expected[mu] = stats[mu];
            expected[mu + latent] = stats[mu + latent] - Math.Log(2);
        }
        AssertClose(expected, Download(merged), 2e-6, 1e-6, "merge of a Gaussian with itself");
    }

    [TestMethod]
    [DataRow(1, 1, false)]
    [DataRow(7, 3, false)]
    [DataRow(7, 50, true)]
    [DataRow(130, 100, false)]
    [DataRow(130, 3, true)]
    public void PrecisionMergeBackwardAccumulatesTheDoubleReference(int rows, int latent, bool extremes)
    {
        int n = 2 * rows * latent;
        var bottomUp = RandomStats(551, rows, latent, -3f, 3f, -4f, 4f);
        var topDown = RandomStats(553, rows, latent, -3f, 3f, -4f, 4f);
        if (extremes) SetExtremeLogvars(bottomUp, topDown, rows, latent);
        var dMerged = RandomFloats(555, n, -2f, 2f);
        var dBottomUp0 = RandomFloats(556, n, -1f, 1f);
        var dTopDown0 = RandomFloats(557, n, -1f, 1f);
        var (buBuffer, buView) = UploadAtOffset(bottomUp, 1);
        var (tdBuffer, tdView) = UploadAtOffset(topDown, 2);
        var (gBuffer, gView) = UploadAtOffset(dMerged, 3);
        var (dbBuffer, dbView) = UploadAtOffset(dBottomUp0, 4);
        var (dtBuffer, dtView) = UploadAtOffset(dTopDown0, 5);
        using (buBuffer) using (tdBuffer) using (gBuffer) using (dbBuffer) using (dtBuffer)
        {
            Acc.PrecisionMergeBackward(buView, tdView, gView, rows, latent, dbView, dtView);
            var expectedBu = ToDouble(dBottomUp0);
            var expectedTd = ToDouble(dTopDown0);
            var tolBu = new double[n];
            var tolTd = new double[n];
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, lv = mu + latent;
                double m1 = bottomUp[mu], l1 = bottomUp[lv], m2 = topDown[mu], l2 = topDown[lv], dm = dMerged[mu], ds = dMerged[lv];
                var (_, _, w1, w2) = MergeReference(m1, l1, m2, l2);
                double c = dm * (m1 - m2) * w1 * w2;
                expectedBu[mu] += dm * w1;
                expectedBu[lv] += ds * w1 - c;
                expectedTd[mu] += dm * w2;
                expectedTd[lv] += ds * w2 + c;
                tolBu[mu] = 4e-6 * Math.Abs(dm * w1) + 2e-7 * Math.Abs(expectedBu[mu]) + 1e-6;
                tolTd[mu] = 4e-6 * Math.Abs(dm * w2) + 2e-7 * Math.Abs(expectedTd[mu]) + 1e-6;
                tolBu[lv] = 4e-6 * (Math.Abs(ds * w1) + Math.Abs(c)) + 2e-7 * Math.Abs(expectedBu[lv]) + 1e-6;
                tolTd[lv] = 4e-6 * (Math.Abs(ds * w2) + Math.Abs(c)) + 2e-7 * Math.Abs(expectedTd[lv]) + 1e-6;
            }
            string what = $"merge backward {rows}x{latent}{(extremes ? " extremes" : "")}";
            var outBu = Download(dbView);
            var outTd = Download(dtView);
            AssertClose(expectedBu, outBu, i => tolBu[i], $"{what}: dBottomUp");
            AssertClose(expectedTd, outTd, i => tolTd[i], $"{what}: dTopDown");
            AssertAllFinite(outBu, $"{what}: dBottomUp");
            AssertAllFinite(outTd, $"{what}: dTopDown");
            AssertGuardsIntact(dbBuffer, 4, n, $"{what}: dBottomUp buffer");
            AssertGuardsIntact(dtBuffer, 5, n, $"{what}: dTopDown buffer");
            CollectionAssert.AreEqual(dMerged, Download(gView), $"{what}: dMerged changed");
        }
    }

    [TestMethod]
    public void PrecisionMergeAndItsBackwardRejectWrongShapesAndOverlaps()
    {
        const int rows = 3, latent = 4, n = 2 * rows * latent;
        using var bu = Upload(RandomFloats(561, n));
        using var td = Upload(RandomFloats(562, n));
        using var g = Upload(RandomFloats(563, n));
        using var outputs = Upload(Filled(3 * n, Guard));
        DeviceView<float> merged = outputs.Slice(0, n), dBu = outputs.Slice(n, n), dTd = outputs.Slice(2 * n, n);
        long launches = Acc.Counters.Launches;
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(bu.Slice(0, n - 1), td, rows, latent, merged));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(bu, td.Slice(1, n - 1), rows, latent, merged));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(bu, td, rows, latent, merged.Slice(0, n - 1)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(bu, td, rows, latent + 1, merged));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(bu, default, rows, latent, merged));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.PrecisionMerge(bu, td, 0, latent, merged));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.PrecisionMerge(bu, td, rows, -1, merged));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(outputs.Slice(n - 1, n), td, rows, latent, merged));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMerge(bu, merged, rows, latent, merged));

        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu.Slice(1, n - 1), td, g, rows, latent, dBu, dTd));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, td, g.Slice(0, n - 1), rows, latent, dBu, dTd));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, td, g, rows, latent, dBu.Slice(0, n - 1), dTd));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, td, g, rows, latent, dBu, dTd.Slice(1, n - 1)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.PrecisionMergeBackward(bu, td, g, 0, latent, dBu, dTd));
        // The gradients over each other, over an input, over dMerged.
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, td, g, rows, latent, dBu, outputs.Slice(2 * n - 1, n)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, td, g, rows, latent, dBu, dBu));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(outputs.Slice(n + 3, n), td, g, rows, latent, dBu, merged));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, td, merged, rows, latent, outputs.Slice(1, n), dTd));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.PrecisionMergeBackward(bu, dTd, g, rows, latent, dBu, dTd));
        Assert.IsTrue(Download(outputs).All(v => v == Guard), "a rejected op wrote to its outputs");
        Assert.AreEqual(launches, Acc.Counters.Launches, "a rejected op launched a kernel");
    }

    [TestMethod]
    [DataRow(1, 1f, 1f)]       // the discriminator on real rows, or the non-saturating generator loss
    [DataRow(7, 0f, 1f)]       // the discriminator on generated rows
    [DataRow(130, 0f, -1f)]    // the minimax generator loss, log(1 − D(G(z)))
    [DataRow(130, 1f, 1f)]
    [DataRow(7, 0.9f, 0.5f)]   // a smoothed label, scaled
    [DataRow(130, 0.3f, -2f)]
    public void LogisticLossMatchesTheDoubleReference(int rows, float target, float scale)
    {
        float[] extremes = [100f, -100f, 30f, -30f, 0f, 17f, -17f, 1e-3f, -1e-3f];
        var logits = RandomFloats(571 + rows, rows, -8f, 8f);
        for (int i = 0; i < rows; i += 3) logits[i] = extremes[i / 3 % extremes.Length];
        var (lBuffer, lView) = UploadAtOffset(logits, 2);
        var (lossBuffer, lossView) = UploadAtOffset(Filled(rows, float.NaN), 3);
        var (dBuffer, dView) = UploadAtOffset(Filled(rows, float.NaN), 4);
        using (lBuffer) using (lossBuffer) using (dBuffer)
        {
            Acc.LogisticLoss(lView, rows, target, scale, lossView, dView);
            var loss = new double[rows];
            var lossTol = new double[rows];
            var grad = new double[rows];
            double t = target, k = scale;
            for (int i = 0; i < rows; i++)
            {
                double l = logits[i];
                // −[t log sigmoid(l) + (1 − t) log(1 − sigmoid(l))], in the overflow-free form.
                double bce = Math.Max(l, 0) - l * t + Math.Log(1 + Math.Exp(-Math.Abs(l)));
                loss[i] = k * bce;
                lossTol[i] = 4e-6 * Math.Abs(k) * (Math.Abs(l) * (1 + t) + 1) + 1e-7;
                grad[i] = k * (1 / (1 + Math.Exp(-l)) - t);
            }
            string what = $"logistic {rows} rows target {target} scale {scale}";
            var outLoss = Download(lossView);
            var outGrad = Download(dView);
            AssertClose(loss, outLoss, i => lossTol[i], $"{what}: loss");
            AssertClose(grad, outGrad, 1e-6, 1e-6 * Math.Abs(scale), $"{what}: dlogits");
            AssertAllFinite(outLoss, what);
            AssertAllFinite(outGrad, what);
            AssertGuardsIntact(lossBuffer, 3, rows, $"{what}: loss buffer");
            AssertGuardsIntact(dBuffer, 4, rows, $"{what}: dlogits buffer");
        }
    }

    [TestMethod]
    public void LogisticLossRejectsWrongShapesSettingsAndOverlaps()
    {
        const int rows = 5;
        using var logits = Upload(RandomFloats(581, rows, -3f, 3f));
        using var outputs = Upload(Filled(2 * rows, Guard));
        DeviceView<float> loss = outputs.Slice(0, rows), d = outputs.Slice(rows, rows);
        long launches = Acc.Counters.Launches;
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(logits.Slice(0, rows - 1), rows, 1f, 1f, loss, d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(logits, rows, 1f, 1f, loss.Slice(0, rows - 1), d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(logits, rows, 1f, 1f, loss, d.Slice(1, rows - 1)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(default, rows, 1f, 1f, loss, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogisticLoss(logits, 0, 1f, 1f, loss, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogisticLoss(logits, rows, -0.01f, 1f, loss, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogisticLoss(logits, rows, 1.01f, 1f, loss, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogisticLoss(logits, rows, float.NaN, 1f, loss, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogisticLoss(logits, rows, 1f, float.NaN, loss, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogisticLoss(logits, rows, 1f, float.NegativeInfinity, loss, d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(logits, rows, 1f, 1f, loss, outputs.Slice(rows - 1, rows)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(logits, rows, 1f, 1f, loss, loss));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogisticLoss(outputs.Slice(1, rows), rows, 1f, 1f, loss, d));
        Assert.IsTrue(Download(outputs).All(v => v == Guard), "a rejected op wrote to its outputs");
        Assert.AreEqual(launches, Acc.Counters.Launches, "a rejected op launched a kernel");
    }
}
