using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// The model-variant ops against scalar references written here: column copies and one-hot labels
/// (exact: they only move values), the score-function gradient (accumulated onto what is there, both
/// baselines, and unbiased for a function whose expectation is known), and their host-side validation.
/// <see cref="Accelerator.Corrupt"/> has its own file.
/// </summary>
public abstract partial class KernelConformance
{
    /// <summary>What the destination holds before an op that must leave part of it alone.</summary>
    private const float Untouched = 7f;

    [TestMethod]
    [DataRow(37, 784, 0, 794, 0, 784)]   // x into [x | onehot(y)]
    [DataRow(37, 20, 0, 30, 0, 20)]      // z into [z | onehot(y)]
    [DataRow(9, 30, 0, 20, 0, 20)]       // dz out of d[z | y]
    [DataRow(5, 13, 5, 9, 1, 7)]         // a ragged block in the middle of both
    [DataRow(4, 6, 5, 6, 5, 1)]          // the last column of each
    [DataRow(1, 1, 0, 1, 0, 1)]
    public void CopyColumnsCopiesTheBlockAndLeavesTheRestUntouched(int rows, int sourceColumns, int sourceOffset,
        int destinationColumns, int destinationOffset, int count)
    {
        var source = RandomFloats(401, rows * sourceColumns, -3f, 3f);
        var before = Filled(rows * destinationColumns, Untouched);
        var (srcBuffer, srcView) = UploadAtOffset(source, 3);
        var (dstBuffer, dstView) = UploadAtOffset(before, 5);
        using (srcBuffer) using (dstBuffer)
        {
            Acc.CopyColumns(srcView, rows, sourceColumns, sourceOffset, dstView, destinationColumns, destinationOffset, count);
            var expected = (float[])before.Clone();
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < count; j++)
                expected[i * destinationColumns + destinationOffset + j] = source[i * sourceColumns + sourceOffset + j];
            AssertSameBits(expected, Download(dstView), $"copy of {rows}x{count} from {sourceOffset}/{sourceColumns} to {destinationOffset}/{destinationColumns}");
            AssertGuardsIntact(dstBuffer, 5, before.Length, "destination buffer");
            CollectionAssert.AreEqual(source, Download(srcView), "the source changed");
        }
    }

    [TestMethod]
    [DataRow(23, 10, 794, 784)]  // onehot(y) after x
    [DataRow(23, 10, 30, 20)]    // onehot(y) after z
    [DataRow(6, 10, 15, 0)]      // in front
    [DataRow(5, 1, 3, 2)]
    [DataRow(7, 256, 260, 3)]    // every byte a class
    [DataRow(1, 3, 3, 0)]
    public void GatherOneHotWritesEachRowsLabelAndLeavesTheRestUntouched(int rows, int classes, int destinationColumns, int destinationOffset)
    {
        const int samples = 300;
        var rng = new Random(402 + classes);
        var labels = new byte[samples];
        for (int s = 0; s < samples; s++) labels[s] = (byte)rng.Next(classes);
        labels[0] = 0; labels[samples - 1] = (byte)(classes - 1);
        int[] indices = Enumerable.Range(0, rows).Select(i => (i * 37 + 11) % samples).ToArray();
        indices[0] = samples - 1;
        if (rows > 2) { indices[1] = 0; indices[2] = indices[1]; }

        // Labels and indices sit inside larger buffers, so a kernel that ignores a view's offset shows up.
        using var dLabels = Acc.Upload<byte>([9, 9, .. labels, 9]);
        using var dIndices = Acc.Upload<int>([-1, .. indices, -1, -1]);
        var before = Filled(rows * destinationColumns, Untouched);
        var (dstBuffer, dstView) = UploadAtOffset(before, 2);
        using (dstBuffer)
        {
            Acc.GatherOneHot(dLabels.Slice(2, samples), dIndices.Slice(1, rows), rows, classes, dstView, destinationColumns, destinationOffset);
            var expected = (float[])before.Clone();
            for (int i = 0; i < rows; i++)
            for (int c = 0; c < classes; c++)
                expected[i * destinationColumns + destinationOffset + c] = labels[indices[i]] == c ? 1f : 0f;
            AssertSameBits(expected, Download(dstView), $"one-hot of {rows} rows, {classes} classes at {destinationOffset}/{destinationColumns}");
            AssertGuardsIntact(dstBuffer, 2, before.Length, "destination buffer");
        }
    }

    [TestMethod]
    [DataRow(37, 20, ScoreBaseline.None)]
    [DataRow(37, 20, ScoreBaseline.LeaveOneOut)]
    [DataRow(128, 7, ScoreBaseline.LeaveOneOut)]
    [DataRow(5, 33, ScoreBaseline.LeaveOneOut)]
    [DataRow(1, 5, ScoreBaseline.LeaveOneOut)]   // no other row: no baseline
    [DataRow(1, 3, ScoreBaseline.None)]
    public void ScoreFunctionBackwardAccumulatesTheScalarReference(int rows, int latent, ScoreBaseline baseline)
    {
        const float klWeight = 0.75f;
        var stats = RandomFloats(411, 2 * rows * latent, -2f, 2f);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
            stats[i * 2 * latent + latent + j] = -0.5f + 1.25f * stats[i * 2 * latent + latent + j]; // logvar in [-3, 2]
        var eps = RandomFloats(412, rows * latent, -3f, 3f);
        var loss = RandomFloats(413, rows, 50f, 300f);
        var kl = RandomFloats(414, rows, 0f, 30f);
        var initial = RandomFloats(415, 2 * rows * latent, -1f, 1f);

        // The reference in double from the float inputs.
        var f = new double[rows];
        double sum = 0, sumAbs = 0;
        for (int i = 0; i < rows; i++)
        {
            f[i] = loss[i] - (double)klWeight * kl[i];
            sum += f[i];
            sumAbs += Math.Abs(f[i]) + Math.Abs(loss[i]);
        }
        var expected = ToDouble(initial);
        var tolerance = new double[expected.Length];
        for (int i = 0; i < rows; i++)
        {
            double b = baseline == ScoreBaseline.LeaveOneOut && rows > 1 ? (sum - f[i]) / (rows - 1) : 0;
            double w = f[i] - b;
            // The weight's float error: its own terms, and the row sum's (row order, float) rounding.
            double wError = 1e-6 * (Math.Abs(f[i]) + loss[i]) + (baseline == ScoreBaseline.LeaveOneOut ? 2.5e-7 * sumAbs : 0);
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, lv = mu + latent;
                double e = eps[i * latent + j], sigma = Math.Exp(stats[lv] / 2);
                double muTerm = w * e / sigma, lvTerm = w * 0.5 * (e * e - 1);
                expected[mu] += muTerm;
                expected[lv] += lvTerm;
                tolerance[mu] = wError * Math.Abs(e / sigma) + 2e-6 * Math.Abs(muTerm) + 1e-6 * Math.Abs(expected[mu]) + 1e-6;
                // eps^2 − 1 cancels near |eps| = 1: the float square's rounding, scaled by w, is then all that is left.
                tolerance[lv] = wError * Math.Abs(0.5 * (e * e - 1)) + 2e-6 * Math.Abs(lvTerm) + 2e-7 * Math.Abs(w) * e * e
                    + 1e-6 * Math.Abs(expected[lv]) + 1e-6;
            }
        }

        using var dStats = Upload(stats);
        using var dEps = Upload(eps);
        var (lossBuffer, lossView) = UploadAtOffset(loss, 1);
        var (klBuffer, klView) = UploadAtOffset(kl, 4);
        var (dsBuffer, dsView) = UploadAtOffset(initial, 3);
        using (lossBuffer) using (klBuffer) using (dsBuffer)
        {
            Acc.ScoreFunctionBackward(dStats, dEps, lossView, klView, klWeight, baseline, rows, latent, dsView);
            AssertClose(expected, Download(dsView), i => tolerance[i], $"dstats {rows}x{latent} {baseline}");
            AssertGuardsIntact(dsBuffer, 3, initial.Length, "dstats buffer");
        }
    }

    /// <summary>
    /// For f(z) = sum_j a_j z_j^2 under z ~ N(mu, exp(logvar)), E[f] = sum_j a_j (mu_j^2 + exp(logvar_j)):
    /// d/dmu_j = 2 a_j mu_j, d/dlogvar_j = a_j exp(logvar_j). The mean of the score estimates over many
    /// draws (z from SampleLatent on the device) must come within 4 standard errors of that, with either
    /// baseline, and with a KL term in the loss that the op has to take out again.
    /// </summary>
    [TestMethod]
    [DataRow(ScoreBaseline.None)]
    [DataRow(ScoreBaseline.LeaveOneOut)]
    public void ScoreFunctionEstimateIsUnbiased(ScoreBaseline baseline)
    {
        const int rows = 20000, latent = 3;
        const float klWeight = 2f;
        float[] mu = [0.5f, -1f, 0.2f], logvar = [0f, -0.5f, 0.7f], a = [1f, 0.5f, -0.8f];
        var stats = new float[2 * rows * latent];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            stats[i * 2 * latent + j] = mu[j];
            stats[i * 2 * latent + latent + j] = logvar[j];
        }
        using var dStats = Upload(stats);
        using var dEps = Acc.Allocate<float>(rows * latent);
        using var dZ = Acc.Allocate<float>(rows * latent);
        Acc.SampleLatent(dStats, rows, latent, new RandomSource(4242, 1, RandomStream.Latent), dEps, dZ);
        var z = Download(dZ);
        var kl = RandomFloats(421, rows, 0f, 5f);
        var loss = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double value = 0;
            for (int j = 0; j < latent; j++) value += a[j] * (double)z[i * latent + j] * z[i * latent + j];
            loss[i] = (float)(value + klWeight * kl[i]);
        }
        using var dLoss = Upload(loss);
        using var dKl = Upload(kl);
        using var dGrad = Upload(new float[2 * rows * latent]);
        Acc.ScoreFunctionBackward(dStats, dEps, dLoss, dKl, klWeight, baseline, rows, latent, dGrad);
        var grad = Download(dGrad);

        for (int c = 0; c < 2 * latent; c++)
        {
            double mean = 0, square = 0;
            for (int i = 0; i < rows; i++) mean += grad[i * 2 * latent + c];
            mean /= rows;
            for (int i = 0; i < rows; i++) square += Math.Pow(grad[i * 2 * latent + c] - mean, 2);
            double standardError = Math.Sqrt(square / (rows - 1) / rows);
            int j = c % latent;
            double analytic = c < latent ? 2 * a[j] * mu[j] : a[j] * Math.Exp(logvar[j]);
            string what = $"{baseline}: d/d{(c < latent ? "mu" : "logvar")}_{j}";
            Assert.IsLessThan(4 * standardError, Math.Abs(mean - analytic), $"{what}: mean {mean:G5}, analytic {analytic:G5}, standard error {standardError:G3}");
            Assert.IsLessThan(0.2 * Math.Abs(analytic), standardError, $"{what}: standard error {standardError:G3} too large to test anything");
        }
    }

    [TestMethod]
    public void CopyColumnsAndGatherOneHotRejectWrongShapes()
    {
        const int rows = 4;
        using var source = Upload(RandomFloats(431, rows * 6));
        using var destination = Upload(Filled(rows * 9, Guard));
        var d = destination.View;
        Assert.ThrowsExactly<ArgumentException>(() => Acc.CopyColumns(source.Slice(0, 23), rows, 6, 0, d, 9, 0, 6));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.CopyColumns(source, rows, 6, 0, d.Slice(1, 35), 9, 0, 6));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.CopyColumns(source, rows, 6, 1, d, 9, 0, 6));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.CopyColumns(source, rows, 6, 0, d, 9, 4, 6));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.CopyColumns(source, rows, 6, -1, d, 9, 0, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.CopyColumns(source, rows, 6, 0, d, 9, -1, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.CopyColumns(source, rows, 6, 0, d, 9, 0, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.CopyColumns(source, 0, 6, 0, d, 9, 0, 6));
        // Overlapping windows of one buffer, even where the copied columns themselves would not collide.
        Assert.ThrowsExactly<ArgumentException>(() => Acc.CopyColumns(d.Slice(0, 12), 2, 6, 0, d.Slice(6, 18), 9, 3, 6));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.CopyColumns(d.Slice(0, 18), 2, 9, 0, d.Slice(0, 18), 9, 0, 3));

        using var labels = Acc.Upload<byte>([0, 1, 2, 1]);
        using var indices = Acc.Upload<int>([3, 2, 1, 0]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GatherOneHot(labels, indices, rows, 0, d, 9, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GatherOneHot(labels, indices, rows, 257, d, 9, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GatherOneHot(labels, indices, rows, 3, d, 9, 7));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GatherOneHot(labels, indices, rows, 3, d, 9, -1));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GatherOneHot(labels, indices.Slice(0, 3), rows, 3, d, 9, 0));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GatherOneHot(labels, indices, rows, 3, d.Slice(0, 35), 9, 0));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GatherOneHot(default, indices, rows, 3, d, 9, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GatherOneHot(labels, indices, 0, 3, d, 9, 0));
        Assert.IsTrue(Download(d).All(v => v == Guard), "a rejected op wrote to its output");
    }

    [TestMethod]
    public void ScoreFunctionBackwardRejectsWrongShapesAndSettings()
    {
        const int rows = 3, latent = 4;
        using var stats = Upload(RandomFloats(441, 2 * rows * latent));
        using var eps = Upload(RandomFloats(442, rows * latent));
        using var loss = Upload(RandomFloats(443, rows));
        using var kl = Upload(RandomFloats(444, rows));
        using var ds = Upload(Filled(2 * rows * latent + rows, Guard));
        var d = ds.Slice(0, 2 * rows * latent);
        var none = ScoreBaseline.None;
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats.Slice(0, 23), eps, loss, kl, 1f, none, rows, latent, d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats, eps.Slice(1, 11), loss, kl, 1f, none, rows, latent, d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats, eps, loss.Slice(0, 2), kl, 1f, none, rows, latent, d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl.Slice(1, 2), 1f, none, rows, latent, d));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl, 1f, none, rows, latent, ds.Slice(1, 2 * rows * latent - 1)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl, 1f, none, rows, latent + 1, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl, -1f, none, rows, latent, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl, float.NaN, none, rows, latent, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl, 1f, (ScoreBaseline)2, rows, latent, d));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ScoreFunctionBackward(stats, eps, loss, kl, 1f, none, 0, latent, d));
        // dstats over an input: the losses, here, which every row's weight reads.
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ScoreFunctionBackward(stats, eps, ds.Slice(2 * rows * latent, rows), kl, 1f, none,
            rows, latent, ds.Slice(rows, 2 * rows * latent)));
        Assert.IsTrue(Download(ds).All(v => v == Guard), "a rejected op wrote to its output");
    }

    /// <summary>Asserts equal bits element by element (values that are moved, not computed, or computed the one same way).</summary>
    protected static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
