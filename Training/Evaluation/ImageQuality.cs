namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// PSNR of a set of images: <paramref name="MeanDb"/> is the mean over images of each image's PSNR (what
/// denoising and reconstruction papers report), <paramref name="PooledDb"/> the PSNR of the MSE pooled over
/// every pixel of every image (dominated by the worst images, so it sits below the mean), and
/// <paramref name="PerImageDb"/> each image's value.
/// </summary>
public sealed record PsnrResult(double MeanDb, double PooledDb, double[] PerImageDb);

/// <summary>Image-quality measures for images with values in [0, 1] (the peak value is 1).</summary>
public static class ImageQuality
{
    /// <summary>
    /// PSNR of one image against its reference: 10 log10(1 / MSE) dB. Identical images have MSE 0 and
    /// an infinite PSNR: the value is <paramref name="capDb"/> then (and never above it), +infinity by default.
    /// </summary>
    public static double Psnr(ReadOnlySpan<float> reference, ReadOnlySpan<float> image, double capDb = double.PositiveInfinity)
    {
        if (reference.Length != image.Length)
            throw new ArgumentException($"the image has {image.Length} values, its reference {reference.Length}", nameof(image));
        if (reference.IsEmpty) throw new ArgumentException("an image needs at least one value", nameof(image));
        return FromMse(SquaredError(reference, image) / reference.Length, capDb);
    }

    /// <summary>
    /// PSNR of count images (count x pixels each, row-major, one image after another) against their
    /// references: per image, their mean, and the PSNR of the pooled MSE (<see cref="PsnrResult"/>).
    /// Every value is capped at <paramref name="capDb"/>; with the default (no cap) one image identical to
    /// its reference makes the mean +infinity, which says exactly that. Pass a cap (100 dB is common) to
    /// average sets where some images are reproduced exactly.
    /// </summary>
    public static PsnrResult Psnr(ReadOnlySpan<float> references, ReadOnlySpan<float> images, int count, double capDb = double.PositiveInfinity)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one image is needed");
        if (references.Length != images.Length)
            throw new ArgumentException($"the images have {images.Length} values, their references {references.Length}", nameof(images));
        if (images.Length % count != 0 || images.Length == 0)
            throw new ArgumentException($"{images.Length} values are not {count} images of equal size", nameof(images));
        if (double.IsNaN(capDb)) throw new ArgumentException("the cap must be a number", nameof(capDb));
        int pixels = images.Length / count;
        var perImage = new double[count];
        double total = 0, sum = 0;
        for (int i = 0; i < count; i++)
        {
            double squared = SquaredError(references.Slice(i * pixels, pixels), images.Slice(i * pixels, pixels));
            total += squared;
            sum += perImage[i] = FromMse(squared / pixels, capDb);
        }
        return new PsnrResult(sum / count, FromMse(total / images.Length, capDb), perImage);
    }

    private static double FromMse(double mse, double capDb) => mse == 0 ? capDb : Math.Min(capDb, -10 * Math.Log10(mse));

    // In double: a float sum over 784 pixels of 10^5 images would lose the small errors of good reconstructions.
    private static double SquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++)
        {
            double d = (double)a[j] - b[j];
            sum += d * d;
        }
        return sum;
    }
}
