using IlgpuVae.Training.Evaluation;

namespace IlgpuVae.Tests.Evaluation;

/// <summary>PSNR against values computed by hand.</summary>
[TestClass]
public sealed class ImageQualityTests
{
    // Image A: every pixel off by 0.1, MSE 0.01, 20 dB. Image B: one pixel of four off by 0.5, MSE
    // 0.0625 = 1/16, 10 log10 16 = 12.041199826559248 dB. Pooled: (4 * 0.01 + 0.25) / 8 = 0.03625, 14.406919890929878 dB.
    private static readonly float[] References = [0, 0, 0, 0, 1, 0, 1, 0];
    private static readonly float[] Images = [0.1f, 0.1f, 0.1f, 0.1f, 1, 0, 1, 0.5f];

    [TestMethod]
    public void PerImageMeanAndPooledMatchHandComputedValues()
    {
        var result = ImageQuality.Psnr(References, Images, 2);
        // 0.1f is not 0.1: the float error moves the 20 dB image by ~1e-7 dB.
        Assert.AreEqual(20.0, result.PerImageDb[0], 1e-5);
        Assert.AreEqual(12.041199826559248, result.PerImageDb[1], 1e-12);
        Assert.AreEqual((20.0 + 12.041199826559248) / 2, result.MeanDb, 1e-5);
        Assert.AreEqual(14.406919890929878, result.PooledDb, 1e-5);
        Assert.IsLessThan(result.MeanDb, result.PooledDb, "the pooled MSE is dominated by the worse image");
        Assert.AreEqual(12.041199826559248, ImageQuality.Psnr(References.AsSpan(4), Images.AsSpan(4)), 1e-12);
        // Off by the full range everywhere: MSE 1, 0 dB.
        Assert.AreEqual(0.0, ImageQuality.Psnr([0f, 1f], [1f, 0f]));
    }

    [TestMethod]
    public void IdenticalImagesAreInfiniteUnlessCapped()
    {
        Assert.AreEqual(double.PositiveInfinity, ImageQuality.Psnr(References, References));
        var exact = ImageQuality.Psnr(References, [0.1f, 0.1f, 0.1f, 0.1f, 1, 0, 1, 0], 2);
        Assert.AreEqual(double.PositiveInfinity, exact.PerImageDb[1]);
        Assert.AreEqual(double.PositiveInfinity, exact.MeanDb);
        Assert.AreEqual(-10 * Math.Log10(0.04 / 8), exact.PooledDb, 1e-5, "the pooled MSE is not zero");
        var capped = ImageQuality.Psnr(References, [0.1f, 0.1f, 0.1f, 0.1f, 1, 0, 1, 0], 2, capDb: 100);
        Assert.AreEqual(100.0, capped.PerImageDb[1]);
        Assert.AreEqual((20.0 + 100.0) / 2, capped.MeanDb, 1e-5);
        Assert.AreEqual(100.0, ImageQuality.Psnr(References, References, capDb: 100));
        Assert.AreEqual(15.0, ImageQuality.Psnr(References, Images, 2, capDb: 15).PerImageDb[0], "the cap bounds every value");
    }

    [TestMethod]
    public void MismatchedShapesAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => ImageQuality.Psnr(References, Images.AsSpan(1)));
        Assert.ThrowsExactly<ArgumentException>(() => ImageQuality.Psnr(References, Images, 3));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageQuality.Psnr(References, Images, 0));
    }
}
