using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// What a denoising VAE does to images it has not seen: PSNR against the clean image of the corrupted
/// input and of the model's output, and the first few (noisy, denoised, clean) triplets for a picture.
/// </summary>
public sealed record DenoisingResult(int Count, Corruption Corruption, PsnrResult Noisy, PsnrResult Denoised,
    int Kept, float[] KeptNoisy, float[] KeptDenoised, float[] KeptClean)
{
    /// <summary>How much the model gains over its input: mean per-image PSNR, denoised minus noisy.</summary>
    public double GainDb => Denoised.MeanDb - Noisy.MeanDb;
}

public static class Denoising
{
    /// <summary>PSNR of an image equal to its reference is infinite; it counts as this many dB in the means.</summary>
    public const double CapDb = 100;

    /// <summary>
    /// Corrupts the first count images (uint8, Input bytes each) on the device, the noise keyed by seed
    /// and the image (Philox, stream Corruption, step 0, offset image * Input: independent of the
    /// network's capacity), encodes the corrupted image to its posterior mean, decodes the mean image,
    /// and scores both against the clean image. labels: one per image for a conditional model.
    /// </summary>
    public static DenoisingResult Evaluate(IVaeModel network, ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int count,
        Corruption corruption, ulong seed, int keep, CancellationToken cancellation = default)
    {
        var config = network.Config;
        int features = config.Input;
        if (count < 1 || (long)count * features > pixels.Length)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"need 1..{pixels.Length / features} images");
        keep = Math.Clamp(keep, 0, count);
        var acc = network.Accelerator;
        var clean = new float[(long)count * features];
        for (long i = 0; i < clean.Length; i++) clean[i] = pixels[(int)i] * (1f / 255f);
        var noisy = new float[clean.Length];
        var denoised = new float[clean.Length];

        int chunk = network.Capacity;
        using var oneHot = Outputs.ImageOutputs.OneHotBuffer(network, labels, count);
        using var x = acc.Allocate<float>(Math.Min(count, chunk) * features);
        using var corrupted = acc.Allocate<float>(Math.Min(count, chunk) * features);
        for (int start = 0; start < count; start += chunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(chunk, count - start);
            var xView = x.Slice(0, rows * features);
            var noisyView = corrupted.Slice(0, rows * features);
            acc.CopyFromHost<float>(clean.AsSpan(start * features, rows * features), xView);
            acc.Corrupt(corruption, xView, rows, config.ImageHeight, config.ImageWidth,
                new RandomSource(seed, 0, RandomStream.Corruption, (uint)(start * features)), noisyView);
            acc.CopyToHost(noisyView, noisy.AsSpan(start * features, rows * features));
            var condition = oneHot is null ? default : oneHot.Slice(start * config.Classes, rows * config.Classes);
            var z = network.EncodeMean(new VaeBatch(xView, noisyView, condition), rows);
            acc.CopyToHost(network.DecodeMeans(z, rows, condition), denoised.AsSpan(start * features, rows * features));
        }
        int kept = keep * features;
        return new DenoisingResult(count, corruption,
            ImageQuality.Psnr(clean, noisy, count, CapDb), ImageQuality.Psnr(clean, denoised, count, CapDb),
            keep, noisy[..kept], denoised[..kept], clean[..kept]);
    }
}
