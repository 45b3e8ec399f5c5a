using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// The ops of importance-sampled evaluation against double-precision references: the per-sample log
/// weight and negative ELBO, and the running logsumexp fed in chunks, with extreme values (−1e30, spreads
/// far beyond float's exp range, −inf).
/// </summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(Likelihood.Bernoulli, 1f, 37, 784, 20)]
    [DataRow(Likelihood.Bernoulli, 1f, 5, 13, 3)]
    [DataRow(Likelihood.Bernoulli, 1f, 3, 257, 1)]
    [DataRow(Likelihood.Gaussian, 1f, 37, 784, 20)]
    [DataRow(Likelihood.Gaussian, 0.3f, 5, 13, 3)]
    public void ImportanceWeightsMatchDoubleReference(Likelihood likelihood, float sigma, int rows, int features, int latent)
    {
        rows = Shape(rows);
        var logits = RandomFloats(201, rows * features, -8f, 8f);
        logits[0] = 90f; logits[^1] = -90f;
        var x = RandomFloats(202, rows * features, 0f, 1f);
        for (int i = 0; i < x.Length; i += 3) x[i] = i % 2 == 0 ? 0f : 1f;
        var stats = RandomFloats(203, 2 * rows * latent, -2.5f, 2.5f);
        var eps = RandomFloats(204, rows * latent, -3f, 3f);
        var z = new float[rows * latent];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
            z[i * latent + j] = stats[i * 2 * latent + j] + MathF.Exp(stats[i * 2 * latent + latent + j] / 2) * eps[i * latent + j];
        var settings = new LossSettings(likelihood, Beta: 0.25f, Sigma: sigma); // beta must not matter: the bound is at beta = 1

        using var dLogits = Upload(logits);
        using var dX = Upload(x);
        using var dStats = Upload(stats);
        using var dEps = Upload(eps);
        using var dZ = Upload(z);
        var (wBuffer, wView) = UploadAtOffset(Filled(rows, float.NaN), 3);
        var (nBuffer, nView) = UploadAtOffset(Filled(rows, float.NaN), 5);
        using (wBuffer) using (nBuffer)
        {
            Acc.ImportanceWeights(settings, dLogits, dX, dStats, dEps, dZ, rows, features, latent, wView, nView);
            var expectedW = new double[rows];
            var expectedN = new double[rows];
            var scale = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                double recon = 0, reconScale = 0;
                for (int d = 0; d < features; d++)
                {
                    double l = logits[i * features + d], t = x[i * features + d];
                    double term = likelihood == Likelihood.Bernoulli
                        ? Math.Max(l, 0) - l * t + Math.Log(1 + Math.Exp(-Math.Abs(l)))
                        : (t - l) * (t - l) / (2.0 * sigma * sigma) + Math.Log(sigma) + 0.5 * Math.Log(2 * Math.PI);
                    recon += term;
                    reconScale += Math.Abs(term) + Math.Abs(l * t);
                }
                // log p(z) − log q(z|x) from their densities, not from the op's simplified form.
                double logPrior = 0, logPosterior = 0, kl = 0;
                for (int j = 0; j < latent; j++)
                {
                    double mu = stats[i * 2 * latent + j], logvar = stats[i * 2 * latent + latent + j], zz = z[i * latent + j];
                    logPrior += -0.5 * zz * zz - 0.5 * Math.Log(2 * Math.PI);
                    logPosterior += -0.5 * (zz - mu) * (zz - mu) / Math.Exp(logvar) - 0.5 * logvar - 0.5 * Math.Log(2 * Math.PI);
                    kl += -0.5 * (1 + logvar - mu * mu - Math.Exp(logvar));
                    reconScale += Math.Abs(zz * zz) + Math.Abs(logvar) + Math.Exp(logvar) + mu * mu;
                }
                expectedW[i] = -recon + logPrior - logPosterior;
                expectedN[i] = recon + kl;
                scale[i] = reconScale;
            }
            string what = $"{likelihood} sigma={sigma} {rows}x{features}x{latent}";
            AssertClose(expectedW, Download(wView), i => 2e-6 * scale[i] + 1e-4, $"{what}: log weights");
            AssertClose(expectedN, Download(nView), i => 2e-6 * scale[i] + 1e-4, $"{what}: negative ELBO");
            AssertGuardsIntact(wBuffer, 3, rows, $"{what}: log-weight buffer");
            AssertGuardsIntact(nBuffer, 5, rows, $"{what}: negative-ELBO buffer");
        }
    }

    [TestMethod]
    [DataRow(7, 1000, 1)]
    [DataRow(7, 1000, 3)]
    [DataRow(3, 5000, 4)]
    [DataRow(1, 1, 1)]
    [DataRow(33, 17, 5)]
    public void LogSumExpRowsInChunksMatchesDoubleReference(int rows, int cols, int chunks)
    {
        cols = Shape(cols);
        var values = RandomFloats(301, rows * cols, -300f, -150f);
        // Row 0 spreads far beyond float's exp range; row 1 sits at -1e30 with one larger value; row 2
        // holds -inf among finite values (odd rows), or is all -inf but for one element.
        for (int c = 0; c < cols; c++)
        {
            values[c] = c % 2 == 0 ? -1e30f : -5000f + 7f * c;
            if (rows > 1) values[cols + c] = c == cols / 2 ? -1e30f + 1e24f : -1e30f;
            if (rows > 2) values[2 * cols + c] = c == cols - 1 ? -3f : float.NegativeInfinity;
            if (rows > 3 && c % 2 == 1) values[3 * cols + c] = float.NegativeInfinity;
        }
        var expected = new double[rows];
        for (int i = 0; i < rows; i++) expected[i] = LogSumExp(values.AsSpan(i * cols, cols));

        var (maxBuffer, maxView) = UploadAtOffset(Filled(rows, float.NegativeInfinity), 2);
        var (sumBuffer, sumView) = UploadAtOffset(Filled(rows, 0f), 4);
        using (maxBuffer) using (sumBuffer)
        {
            // Each chunk is its own rows x width matrix, as evaluation feeds one sample range at a time.
            int start = 0;
            for (int k = 0; k < chunks; k++)
            {
                int end = (int)((long)cols * (k + 1) / chunks), width = end - start;
                if (width == 0) continue;
                var chunk = new float[rows * width];
                for (int i = 0; i < rows; i++) Array.Copy(values, i * cols + start, chunk, i * width, width);
                using var dChunk = Upload(chunk);
                Acc.LogSumExpRows(dChunk, rows, width, maxView, sumView);
                start = end;
            }
            var m = Download(maxView);
            var s = Download(sumView);
            var actual = new float[rows];
            for (int i = 0; i < rows; i++) actual[i] = (float)(m[i] + Math.Log(s[i]));
            AssertClose(expected, actual, i => 1e-6 * Math.Abs(expected[i]) + 2e-5 * Math.Log(cols + 1) + 1e-5,
                $"logsumexp of {rows}x{cols} in {chunks} chunks");
            AssertGuardsIntact(maxBuffer, 2, rows, "running max buffer");
            AssertGuardsIntact(sumBuffer, 4, rows, "running sum buffer");
        }
    }

    [TestMethod]
    public void LogSumExpRowsOfOnlyMinusInfinityStaysEmpty()
    {
        const int rows = 3, cols = 9;
        using var values = Upload(Filled(rows * cols, float.NegativeInfinity));
        using var max = Upload(Filled(rows, float.NegativeInfinity));
        using var sum = Upload(Filled(rows, 0f));
        Acc.LogSumExpRows(values, rows, cols, max, sum);
        Acc.LogSumExpRows(values, rows, cols, max, sum);
        CollectionAssert.AreEqual(Filled(rows, float.NegativeInfinity), Download(max), "max of an all -inf row");
        CollectionAssert.AreEqual(Filled(rows, 0f), Download(sum), "sum of an all -inf row");

        // A finite value after that starts the row: logsumexp = the value.
        var one = Filled(rows * cols, float.NegativeInfinity);
        one[4] = -1e30f; one[cols + 8] = 12.5f; one[2 * cols] = -88.75f;
        using var dOne = Upload(one);
        Acc.LogSumExpRows(dOne, rows, cols, max, sum);
        CollectionAssert.AreEqual(new[] { -1e30f, 12.5f, -88.75f }, Download(max), "max after one finite value");
        CollectionAssert.AreEqual(Filled(rows, 1f), Download(sum), "sum after one finite value");
    }

    [TestMethod]
    public void ImportanceOpsRejectWrongShapes()
    {
        const int rows = 4, features = 6, latent = 2;
        using var logits = Upload(RandomFloats(1, rows * features));
        using var stats = Upload(RandomFloats(2, 2 * rows * latent));
        using var eps = Upload(RandomFloats(3, rows * latent));
        using var w = Upload(Filled(rows, Guard));
        using var n = Upload(Filled(rows, Guard));
        var bern = new LossSettings(Likelihood.Bernoulli);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ImportanceWeights(bern, logits, logits.Slice(0, 5), stats, eps, eps, rows, features, latent, w, n));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ImportanceWeights(bern, logits, logits, stats.Slice(0, 8), eps, eps, rows, features, latent, w, n));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ImportanceWeights(bern, logits, logits, stats, eps, eps.Slice(1, 7), rows, features, latent, w, n));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ImportanceWeights(bern, logits, logits, stats, eps, eps, rows, features, latent, w.Slice(0, 3), n));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ImportanceWeights(bern, logits, logits, stats, eps, eps, 0, features, latent, w, n));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ImportanceWeights(new LossSettings(Likelihood.Gaussian, 1f, 0f),
            logits, logits, stats, eps, eps, rows, features, latent, w, n));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ImportanceWeights(new LossSettings((Likelihood)7),
            logits, logits, stats, eps, eps, rows, features, latent, w, n));

        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogSumExpRows(logits, rows, features + 1, w, n));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogSumExpRows(logits, rows, features, w.Slice(0, 3), n));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.LogSumExpRows(logits.Slice(0, rows * 2), rows, 2, w.Slice(0, rows), w.Slice(0, rows)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.LogSumExpRows(logits, 0, features, w, n));
        Assert.IsTrue(Download(w).All(v => v == Guard) && Download(n).All(v => v == Guard), "a rejected op wrote to its outputs");
    }

    /// <summary>logsumexp in double; −inf terms add nothing.</summary>
    private static double LogSumExp(ReadOnlySpan<float> values)
    {
        double max = double.NegativeInfinity;
        foreach (float v in values) max = Math.Max(max, v);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (float v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
