using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Images;

namespace IlgpuVae.Training.Outputs;

/// <summary>The pictures of a model: decoder means for z from the prior, and test images beside their reconstructions.</summary>
public static class ImageOutputs
{
    public const int Padding = 2;

    /// <summary>
    /// count decoder mean images (count x Input floats in [0, 1] for Bernoulli) for z ~ N(0, I): the
    /// model's SamplePrior with the Prior stream. Chunk c of the network's
    /// capacity draws with step c, so the same (model, seed) gives the same images on every device.
    /// A conditional model draws image i of class labels[i] (labels is required for it, one per image).
    /// </summary>
    public static float[] SampleMeans(IVaeModel network, ulong seed, int count, ReadOnlySpan<byte> labels = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var acc = network.Accelerator;
        int input = network.Config.Input;
        using var oneHot = OneHotBuffer(network, labels, count);
        var result = new float[(long)count * input];
        for (int start = 0, chunk = 0; start < count; start += network.Capacity, chunk++)
        {
            int rows = Math.Min(network.Capacity, count - start);
            var means = network.SamplePrior(rows, new RandomSource(seed, (uint)chunk, RandomStream.Prior), Rows(oneHot, network, start, rows));
            acc.CopyToHost(means, result.AsSpan(start * input, rows * input));
        }
        return result;
    }

    /// <summary>
    /// The one-hot labels of a conditional model's rows on the device (built on the host: these are
    /// pictures, not the training loop), or null for a model without labels. Checks the labels.
    /// </summary>
    public static DeviceBuffer<float>? OneHotBuffer(IVaeModel network, ReadOnlySpan<byte> labels, int count)
    {
        int classes = network.Config.Classes;
        if (classes == 0) return null;
        if (labels.Length < count)
            throw new ArgumentException($"a conditional model needs a label for each of the {count} images (got {labels.Length})", nameof(labels));
        var oneHot = new float[(long)count * classes];
        for (int i = 0; i < count; i++)
        {
            if (labels[i] >= classes) throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"label {i} is {labels[i]}; the model has classes 0..{classes - 1}");
            oneHot[(long)i * classes + labels[i]] = 1f;
        }
        return network.Accelerator.Upload<float>(oneHot);
    }

    private static DeviceView<float> Rows(DeviceBuffer<float>? oneHot, IVaeModel network, int start, int rows) =>
        oneHot is null ? default : oneHot.Slice(start * network.Config.Classes, rows * network.Config.Classes);

    /// <summary>
    /// Reconstructions of the first count images: decoder means at z = mu(x), the encoder's mean, so
    /// the picture shows what the model keeps of each image rather than sampling noise.
    /// Returns the originals scaled to [0, 1] and the reconstructions, each count x Input.
    /// </summary>
    public static (float[] Originals, float[] Reconstructions) Reconstruct(IVaeModel network, ReadOnlySpan<byte> pixels, int count,
        ReadOnlySpan<byte> labels = default)
    {
        int input = network.Config.Input;
        if (count < 1 || (long)count * input > pixels.Length)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"need 1..{pixels.Length / input} images");
        var acc = network.Accelerator;
        var originals = new float[count * input];
        for (int i = 0; i < originals.Length; i++) originals[i] = pixels[i] * (1f / 255f);
        var reconstructions = new float[count * input];
        int chunkRows = network.Capacity;
        using var oneHot = OneHotBuffer(network, labels, count);
        using var x = acc.Allocate<float>(Math.Min(count, chunkRows) * input);
        for (int start = 0; start < count; start += chunkRows)
        {
            int rows = Math.Min(chunkRows, count - start);
            var xView = x.Slice(0, rows * input);
            acc.CopyFromHost<float>(originals.AsSpan(start * input, rows * input), xView);
            var condition = Rows(oneHot, network, start, rows);
            var z = network.EncodeMean(new VaeBatch(xView, Condition: condition), rows);
            acc.CopyToHost(network.DecodeMeans(z, rows, condition), reconstructions.AsSpan(start * input, rows * input));
        }
        return (originals, reconstructions);
    }

    /// <summary>Writes images as a PNG grid of the given number of columns.</summary>
    public static void WriteGrid(string path, ReadOnlySpan<float> images, int count, VaeConfig config, int columns)
    {
        var (pixels, width, height) = ImageGrid.Tile(images, count, config.ImageHeight, config.ImageWidth, columns, Padding);
        PngEncoder.WriteGray8(path, width, height, pixels);
    }

    /// <summary>
    /// Writes originals and reconstructions as pairs side by side, pairsPerRow pairs a row:
    /// original, reconstruction, original, reconstruction, ...
    /// </summary>
    public static void WritePairs(string path, float[] originals, float[] reconstructions, int count, VaeConfig config, int pairsPerRow)
    {
        int size = config.Input;
        var interleaved = new float[2 * count * size];
        for (int i = 0; i < count; i++)
        {
            originals.AsSpan(i * size, size).CopyTo(interleaved.AsSpan(2 * i * size));
            reconstructions.AsSpan(i * size, size).CopyTo(interleaved.AsSpan((2 * i + 1) * size));
        }
        WriteGrid(path, interleaved, 2 * count, config, 2 * pairsPerRow);
    }
}
