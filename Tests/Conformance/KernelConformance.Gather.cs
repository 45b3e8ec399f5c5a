using System.IO.Compression;
using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// Batch gather: scaling is value * (1f / 255f) exactly, binarisation the Philox.UniformAt rule
/// u(e) &lt; value, where e is the element's index in the batch. Both are exact float operations, so
/// every backend must produce the same bits.
/// </summary>
public abstract partial class KernelConformance
{
    private const string FashionMnistTestImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void GatherBatchScalesAndBinarisesExactly(bool binarize)
    {
        const int samples = 50, features = 37, rows = 23;
        var data = new byte[samples * features];
        new Random(131).NextBytes(data);
        data[0] = 0; data[1] = 255; data[features * samples - 1] = 255;
        int[] indices = Enumerable.Range(0, rows).Select(r => (r * 17 + 3) % samples).ToArray();
        indices[0] = samples - 1; indices[1] = 0; indices[2] = indices[3];
        var random = new RandomSource(99, 5, RandomStream.Binarize);
        CheckGather(data, features, indices, binarize, random, dataOffset: 5, indexOffset: 2, outputOffset: 3);
    }

    [TestMethod]
    public void GatherBatchOfRealFashionMnistImages()
    {
        if (!File.Exists(FashionMnistTestImages)) Assert.Inconclusive($"{FashionMnistTestImages} is not installed");
        const int samples = 300, features = 784;
        var data = ReadIdxImages(FashionMnistTestImages, samples, features);
        int[] indices = Enumerable.Range(0, 128).Select(r => (r * 131 + 7) % samples).ToArray();
        var random = new RandomSource(1, 42, RandomStream.Binarize);
        var scaled = CheckGather(data, features, indices, binarize: false, random, dataOffset: 0, indexOffset: 0, outputOffset: 0);
        var binary = CheckGather(data, features, indices, binarize: true, random, dataOffset: 784, indexOffset: 1, outputOffset: 1);
        // The binarised batch keeps the grey level's mean: E[1{u < v}] = v.
        double meanScaled = scaled.Average(), meanBinary = binary.Average();
        Assert.AreEqual(meanScaled, meanBinary, 0.01, "the binarised batch's mean is not the grey-level mean");
        Assert.IsTrue(binary.All(v => v is 0f or 1f), "binarised values are 0 or 1");
    }

    /// <summary>Binarisation with an element offset thresholds with the uniforms of that stretch of the whole draw.</summary>
    [TestMethod]
    [DataRow(1u)]
    [DataRow(3u)]
    [DataRow(784u)]
    [DataRow(1570u)]
    public void GatherWithAnOffsetBinarisesWithItsStretchOfTheWholeDraw(uint offset)
    {
        const int features = 13;
        var data = new byte[6 * features];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 37 % 256);
        var random = new RandomSource(5, 8, RandomStream.Binarize, offset);
        var output = CheckGather(data, features, [4, 1, 5], binarize: true, random, dataOffset: 0, indexOffset: 0, outputOffset: 0);
        Assert.IsTrue(output.All(v => v is 0f or 1f));
    }

    private float[] CheckGather(byte[] data, int features, int[] indices, bool binarize, RandomSource random,
        int dataOffset, int indexOffset, int outputOffset)
    {
        int rows = indices.Length;
        var dataHost = new byte[dataOffset + data.Length + 11];
        data.CopyTo(dataHost, dataOffset);
        var indexHost = new int[indexOffset + rows + 2];
        indices.CopyTo(indexHost, indexOffset);
        using var dData = Acc.Upload<byte>(dataHost);
        using var dIndices = Acc.Upload<int>(indexHost);
        var (outBuffer, outView) = UploadAtOffset(Filled(rows * features, float.NaN), outputOffset);
        using (outBuffer)
        {
            Acc.GatherBatch(dData.Slice(dataOffset, data.Length), features, dIndices.Slice(indexOffset, rows), rows, outView, binarize, random);
            var output = Download(outView);
            for (int r = 0; r < rows; r++)
            for (int d = 0; d < features; d++)
            {
                int e = r * features + d;
                float value = data[indices[r] * features + d] * (1f / 255f);
                float expected = binarize ? (Philox.UniformAt(e, random) < value ? 1f : 0f) : value;
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(output[e]))
                    Assert.Fail($"gather (binarize={binarize}) row {r} (sample {indices[r]}) feature {d}: expected {expected:R}, got {output[e]:R}");
            }
            AssertGuardsIntact(outBuffer, outputOffset, rows * features, "gather output buffer");
            return output;
        }
    }

    /// <summary>The first count images of an IDX3 file (magic 0x00000803, big-endian header).</summary>
    private static byte[] ReadIdxImages(string path, int count, int features)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var header = new byte[16];
        stream.ReadExactly(header);
        int magic = header[0] << 24 | header[1] << 16 | header[2] << 8 | header[3];
        Assert.AreEqual(0x803, magic, $"{path}: not an IDX3 image file");
        int rows = header[11] | header[10] << 8, cols = header[15] | header[14] << 8;
        Assert.AreEqual(features, rows * cols, $"{path}: images are {rows}x{cols}");
        var images = new byte[count * features];
        stream.ReadExactly(images);
        return images;
    }
}
