using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>The fused VAE loss and its gradients against a double-precision reference.</summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(Likelihood.Bernoulli, 1f, 1f, 128, 784, 20)]
    [DataRow(Likelihood.Bernoulli, 0.5f, 1f, 5, 13, 3)]
    [DataRow(Likelihood.Bernoulli, 2.5f, 1f, 3, 257, 1)]
    [DataRow(Likelihood.Bernoulli, 0f, 1f, 4, 31, 2)]
    [DataRow(Likelihood.Gaussian, 1f, 1f, 128, 784, 20)]
    [DataRow(Likelihood.Gaussian, 0.5f, 0.7f, 5, 13, 3)]
    [DataRow(Likelihood.Gaussian, 3f, 0.05f, 2, 100, 4)]
    public void VaeLossMatchesDoubleReference(Likelihood likelihood, float beta, float sigma, int rows, int features, int latent)
    {
        var logits = RandomFloats(101, rows * features, -6f, 6f);
        var x = RandomFloats(102, rows * features, 0f, 1f);
        for (int i = 0; i < x.Length; i += 3) x[i] = i % 2 == 0 ? 0f : 1f;
        var stats = RandomFloats(103, 2 * rows * latent, -2.5f, 2.5f);
        CheckLoss(new LossSettings(likelihood, beta, sigma), logits, x, stats, rows, features, latent, withKl: true);
        CheckLoss(new LossSettings(likelihood, beta, sigma), logits, x, stats, rows, features, latent, withKl: false);
    }

    [TestMethod]
    [DataRow(Likelihood.Bernoulli)]
    [DataRow(Likelihood.Gaussian)]
    public void VaeLossStaysFiniteAndAccurateAtExtremes(Likelihood likelihood)
    {
        const int rows = 4, features = 60, latent = 6;
        float[] extremeLogits = [100f, -100f, 88f, -88f, 30f, -30f, 0f, 17f, -17f, 1e-3f];
        float[] extremeLogvars = [50f, -50f, 40f, -40f, 0f, 10f];
        var logits = new float[rows * features];
        var x = new float[rows * features];
        for (int e = 0; e < logits.Length; e++)
        {
            logits[e] = extremeLogits[e % extremeLogits.Length];
            x[e] = (e / extremeLogits.Length) % 3 switch { 0 => 0f, 1 => 1f, _ => 0.5f };
        }
        var stats = new float[2 * rows * latent];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            stats[i * 2 * latent + j] = (j % 2 == 0 ? 1 : -1) * (i + 1) * 2.5f;
            stats[i * 2 * latent + latent + j] = extremeLogvars[(i + j) % extremeLogvars.Length];
        }
        var outputs = CheckLoss(new LossSettings(likelihood, 1.5f, 1f), logits, x, stats, rows, features, latent, withKl: true);
        foreach (var (name, values) in outputs) AssertAllFinite(values, $"{likelihood} extremes: {name}");
    }

    /// <summary>Runs the loss on views at offsets and checks every output; returns them for further checks.</summary>
    private List<(string Name, float[] Values)> CheckLoss(LossSettings settings, float[] logits, float[] x, float[] stats,
        int rows, int features, int latent, bool withKl)
    {
        using var dLogits = Upload(logits);
        using var dX = Upload(x);
        using var dStats = Upload(stats);
        var (lossBuffer, lossView) = UploadAtOffset(Filled(rows, float.NaN), 1);
        var (dlBuffer, dlView) = UploadAtOffset(Filled(rows * features, float.NaN), 2);
        var (dsBuffer, dsView) = UploadAtOffset(Filled(2 * rows * latent, float.NaN), 3);
        var (klBuffer, klView) = UploadAtOffset(Filled(rows, float.NaN), 4);
        using (lossBuffer) using (dlBuffer) using (dsBuffer) using (klBuffer)
        {
            Acc.VaeLoss(settings, dLogits, dX, dStats, rows, features, latent, lossView, dlView, dsView, withKl ? klView : default);

            var (loss, lossScale, kl, klScale, dlogits, dstats) = LossReference(settings, logits, x, stats, rows, features, latent);
            string what = $"{settings.Likelihood} beta={settings.Beta} sigma={settings.Sigma} {rows}x{features}x{latent}";
            var outLoss = Download(lossView); var outDl = Download(dlView); var outDs = Download(dsView);
            AssertClose(loss, outLoss, i => 4e-6 * lossScale[i] + 1e-5, $"{what}: per-sample loss");
            AssertClose(dlogits, outDl, 4e-6, 1e-6, $"{what}: dlogits");
            AssertClose(dstats, outDs, 4e-6, 1e-6, $"{what}: dstats");
            AssertGuardsIntact(lossBuffer, 1, rows, $"{what}: loss buffer");
            AssertGuardsIntact(dlBuffer, 2, rows * features, $"{what}: dlogits buffer");
            AssertGuardsIntact(dsBuffer, 3, 2 * rows * latent, $"{what}: dstats buffer");
            var results = new List<(string, float[])> { ("loss", outLoss), ("dlogits", outDl), ("dstats", outDs) };
            if (withKl)
            {
                var outKl = Download(klView);
                AssertClose(kl, outKl, i => 1e-5 * klScale[i] + 1e-5, $"{what}: per-sample KL");
                results.Add(("kl", outKl));
            }
            else
            {
                Assert.IsTrue(Download(klView).All(float.IsNaN), $"{what}: the KL buffer was written though not passed");
            }
            return results;
        }
    }

    private static (double[] Loss, double[] LossScale, double[] Kl, double[] KlScale, double[] DLogits, double[] DStats) LossReference(
        LossSettings s, float[] logits, float[] x, float[] stats, int rows, int features, int latent)
    {
        var loss = new double[rows]; var lossScale = new double[rows];
        var kl = new double[rows]; var klScale = new double[rows];
        var dlogits = new double[rows * features]; var dstats = new double[2 * rows * latent];
        double sigma = s.Sigma, beta = s.Beta;
        for (int i = 0; i < rows; i++)
        {
            double recon = 0, reconScale = 0;
            for (int d = 0; d < features; d++)
            {
                int e = i * features + d;
                double l = logits[e], t = x[e], term;
                if (s.Likelihood == Likelihood.Bernoulli)
                {
                    // -[t log p + (1 - t) log(1 - p)] with p = sigmoid(l), in the overflow-free form.
                    term = Math.Max(l, 0) - l * t + Math.Log(1 + Math.Exp(-Math.Abs(l)));
                    dlogits[e] = 1 / (1 + Math.Exp(-l)) - t;
                }
                else
                {
                    term = (t - l) * (t - l) / (2 * sigma * sigma) + Math.Log(sigma) + 0.5 * Math.Log(2 * Math.PI);
                    dlogits[e] = (l - t) / (sigma * sigma);
                }
                recon += term;
                reconScale += Math.Abs(term) + Math.Abs(l * t);
            }
            double k = 0, kScale = 0;
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, lv = mu + latent;
                double m = stats[mu], v = stats[lv], ev = Math.Exp(v);
                k += -0.5 * (1 + v - m * m - ev);
                kScale += 0.5 * (1 + Math.Abs(v) + m * m + ev);
                dstats[mu] = beta * m;
                dstats[lv] = beta * 0.5 * (ev - 1);
            }
            kl[i] = k; klScale[i] = kScale;
            loss[i] = recon + beta * k;
            lossScale[i] = reconScale + beta * kScale;
        }
        return (loss, lossScale, kl, klScale, dlogits, dstats);
    }
}
