using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>Adam and AdamW against PyTorch's update written out by hand in double, over three steps.</summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(1, 1e-3f, 0f, false)]
    [DataRow(7, 1e-3f, 0f, false)]
    [DataRow(1031, 1e-3f, 0f, false)]
    [DataRow(1031, 1e-2f, 0.01f, false)]
    [DataRow(1031, 1e-2f, 0.1f, true)]
    [DataRow(33, 3e-3f, 0.05f, true)]
    public void AdamMatchesHandComputationOverThreeSteps(int length, float lr, float weightDecay, bool decoupled)
    {
        var settings = new AdamSettings(lr, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled);
        var p0 = RandomFloats(111, length);
        var (pBuffer, pView) = UploadAtOffset(p0, 2);
        var (gBuffer, gView) = UploadAtOffset(new float[length], 5);
        var (mBuffer, mView) = UploadAtOffset(new float[length], 1);
        var (vBuffer, vView) = UploadAtOffset(new float[length], 3);
        using (pBuffer) using (gBuffer) using (mBuffer) using (vBuffer)
        {
            // The reference takes the settings' float values, exactly what the device receives.
            double b1 = settings.Beta1, b2 = settings.Beta2, eps = settings.Epsilon, rate = lr, decay = weightDecay;
            var p = ToDouble(p0);
            var m = new double[length];
            var mScale = new double[length];
            var v = new double[length];
            for (int step = 1; step <= 3; step++)
            {
                var g = RandomFloats(111 + step, length);
                // Magnitudes from 1 down to 1e-8, and exact zeros: eps and its placement matter for the small ones.
                for (int i = 0; i < length; i++) g[i] *= MathF.Pow(10f, -(i % 9));
                for (int i = 10; i < length; i += 11) g[i] = 0f;
                Acc.CopyFromHost<float>(g, gView);
                Acc.Adam(settings, step, pView, gView, mView, vView);

                double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                for (int i = 0; i < length; i++)
                {
                    double grad = g[i];
                    if (decoupled) p[i] *= 1 - rate * decay;
                    else grad += decay * p[i];
                    m[i] = b1 * m[i] + (1 - b1) * grad;
                    // m may cancel to near zero: its rounding error scales with the terms, not the result.
                    mScale[i] = b1 * mScale[i] + (1 - b1) * Math.Abs(grad);
                    v[i] = b2 * v[i] + (1 - b2) * grad * grad;
                    p[i] -= rate / bc1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bc2) + eps);
                }
                string what = $"step {step}, {length} elements, lr {lr}, wd {weightDecay}{(decoupled ? " (AdamW)" : "")}";
                AssertClose(m, Download(mView), i => 1e-6 * mScale[i] + 1e-12, $"{what}: m");
                AssertClose(v, Download(vView), 4e-6, 1e-18, $"{what}: v");
                // Each step moves p by at most about lr; a few float roundings of p itself are allowed.
                AssertClose(p, Download(pView), 3e-7, 2e-7 + 1e-4 * lr, $"{what}: parameters");
            }
            AssertGuardsIntact(pBuffer, 2, length, "parameter buffer");
            AssertGuardsIntact(mBuffer, 1, length, "m buffer");
            AssertGuardsIntact(vBuffer, 3, length, "v buffer");
            CollectionAssert.AreNotEqual(p0, Download(pView), "the parameters did not move");
        }
    }

    [TestMethod]
    public void AdamWithZeroLearningRateOnlyUpdatesTheMoments()
    {
        var p0 = RandomFloats(121, 100);
        using var p = Upload(p0);
        using var g = Upload(RandomFloats(122, 100));
        using var m = Upload(new float[100]);
        using var v = Upload(new float[100]);
        Acc.Adam(new AdamSettings(0f, 0.9f, 0.999f, 1e-8f, 0.5f, true), 1, p, g, m, v);
        CollectionAssert.AreEqual(p0, Download(p), "lr = 0 must leave the parameters unchanged");
        Assert.IsTrue(Download(m).Any(x => x != 0), "the first moment was not updated");
    }
}
