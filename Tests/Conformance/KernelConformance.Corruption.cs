using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// Input corruption: Gaussian noise is SampleLatent's own normals (compared with the device's SampleLatent
/// for the same random source), salt-and-pepper and masking threshold GatherBatch's binarisation uniforms
/// (compared with Philox.UniformAt and with the device's GatherBatch), downsampling averages blocks (a hand
/// reference), and an element offset draws the matching stretch of one larger draw.
/// </summary>
public abstract partial class KernelConformance
{
    /// <summary>A GPU may fuse clean + S n into one FMA: the result, in [0, 1], may differ by an ulp of 1.</summary>
    private const double FusedAddTolerance = 3e-7;

    [TestMethod]
    public void CorruptNoneCopiesTheInput()
    {
        var clean = RandomFloats(501, 3 * 5 * 7, 0f, 1f);
        var (cleanBuffer, cleanView) = UploadAtOffset(clean, 2);
        var (outBuffer, outView) = UploadAtOffset(Filled(clean.Length, float.NaN), 3);
        using (cleanBuffer) using (outBuffer)
        {
            Acc.Corrupt(Corruption.None, cleanView, 3, 5, 7, new RandomSource(1, 2, RandomStream.Corruption), outView);
            AssertSameBits(clean, Download(outView), "none");
            AssertGuardsIntact(outBuffer, 3, clean.Length, "corrupted buffer");
        }
    }

    [TestMethod]
    [DataRow(3, 5, 7, 0.3f, 0u)]
    [DataRow(16, 28, 28, 0.5f, 3u)]
    [DataRow(1, 1, 1, 2f, 1u)]
    [DataRow(4, 3, 3, 0.1f, 1570u)]
    public void CorruptGaussianAddsSampleLatentsNoiseAndClamps(int rows, int height, int width, float amount, uint offset)
    {
        rows = Shape(rows);
        int count = rows * height * width;
        var clean = RandomFloats(502, count, 0f, 1f);
        clean[0] = 0f; clean[^1] = 1f;
        var random = new RandomSource(0xFEEDFACE_CAFEUL, 9, RandomStream.Corruption, offset);

        // SampleLatent with mu = 0 and logvar = 0 draws z = eps, the normals element e is given.
        using var zeros = Upload(new float[2 * count]);
        using var eps = Acc.Allocate<float>(count);
        using var z = Acc.Allocate<float>(count);
        Acc.SampleLatent(zeros, count, 1, random, eps, z);
        var normals = Download(eps);

        var (cleanBuffer, cleanView) = UploadAtOffset(clean, 1);
        var (outBuffer, outView) = UploadAtOffset(Filled(count, float.NaN), 4);
        using (cleanBuffer) using (outBuffer)
        {
            Acc.Corrupt(new Corruption(CorruptionKind.Gaussian, amount), cleanView, rows, height, width, random, outView);
            var actual = Download(outView);
            var expected = new double[count];
            int clamped = 0;
            for (int e = 0; e < count; e++)
            {
                float noisy = clean[e] + amount * normals[e];
                expected[e] = noisy < 0f ? 0f : noisy > 1f ? 1f : noisy;
                if (noisy is < 0f or > 1f) clamped++;
            }
            AssertClose(expected, actual, _ => FusedAddTolerance, $"gaussian {amount} of {rows}x{height}x{width}, offset {offset}");
            Assert.IsTrue(actual.All(v => v is >= 0f and <= 1f), "values outside [0, 1]");
            if (count > 100) Assert.IsTrue(clamped > 0 && clamped < count, $"{clamped} of {count} clamped: both cases must occur");
            AssertGuardsIntact(outBuffer, 4, count, "corrupted buffer");
        }
    }

    [TestMethod]
    [DataRow(CorruptionKind.SaltPepper, 0.2f, 0u)]
    [DataRow(CorruptionKind.SaltPepper, 1f, 5u)]
    [DataRow(CorruptionKind.Mask, 0.3f, 0u)]
    [DataRow(CorruptionKind.Mask, 1f, 2u)]
    [DataRow(CorruptionKind.Mask, 0.05f, 1571u)]
    public void CorruptSaltPepperAndMaskThresholdTheBinarisationUniforms(CorruptionKind kind, float amount, uint offset)
    {
        int rows = Shape(64), count = rows * 28 * 28;
        // Clean values strictly inside (0, 1): a 0 or 1 in the output was written by the noise.
        var clean = RandomFloats(503, count, 0.05f, 0.95f);
        var random = new RandomSource(31337, 12, RandomStream.Corruption, offset);
        using var dClean = Upload(clean);
        var (outBuffer, outView) = UploadAtOffset(Filled(count, float.NaN), 2);
        using (outBuffer)
        {
            Acc.Corrupt(new Corruption(kind, amount), dClean, rows, 28, 28, random, outView);
            var actual = Download(outView);
            int zeros = 0, ones = 0;
            for (int e = 0; e < count; e++)
            {
                float u = Philox.UniformAt(e, random);
                float expected = kind == CorruptionKind.Mask
                    ? (u < amount ? 0f : clean[e])
                    : (u < amount / 2 ? 0f : u < amount ? 1f : clean[e]);
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(actual[e]))
                    Assert.Fail($"{kind} {amount} element {e} (u = {u:R}, clean {clean[e]:R}): expected {expected:R}, got {actual[e]:R}");
                if (actual[e] == 0f) zeros++;
                if (actual[e] == 1f) ones++;
            }
            // The rates, within five standard errors of a binomial count.
            double zeroRate = kind == CorruptionKind.Mask ? amount : amount / 2, oneRate = kind == CorruptionKind.Mask ? 0 : amount / 2;
            AssertRate(zeros, count, zeroRate, $"{kind} {amount}: zeros");
            AssertRate(ones, count, oneRate, $"{kind} {amount}: ones");
            AssertGuardsIntact(outBuffer, 2, count, "corrupted buffer");
        }

        static void AssertRate(int hits, int count, double p, string what)
        {
            double bound = 5 * Math.Sqrt(p * (1 - p) / count) + 1e-12;
            Assert.IsLessThanOrEqualTo(bound, Math.Abs((double)hits / count - p), $"{what}: {hits} of {count}, expected rate {p}");
        }
    }

    /// <summary>
    /// The same uniforms as GatherBatch's binarisation, on the device itself: with pixels of grey v the
    /// batch is 1 exactly where u &lt; v, so masking ones with P = v leaves 0 exactly there, and
    /// salt-and-pepper with P = 2v (P / 2 = v exactly) puts 0 exactly there.
    /// </summary>
    [TestMethod]
    [DataRow(0u)]
    [DataRow(3u)]
    [DataRow(785u)]
    public void CorruptDrawsGatherBatchsBinarisationUniforms(uint offset)
    {
        const int samples = 5, features = 13;
        int[] indices = [4, 1, 0, 3, 2, 2, 1];
        int rows = indices.Length, count = rows * features;
        const byte grey = 77;
        float v = grey * (1f / 255f);
        var random = new RandomSource(606, 4, RandomStream.Corruption, offset);
        using var data = Acc.Upload<byte>(Enumerable.Repeat(grey, samples * features).ToArray());
        using var dIndices = Acc.Upload<int>(indices);
        using var batch = Acc.Allocate<float>(count);
        Acc.GatherBatch(data, features, dIndices, rows, batch, binarize: true, random);
        var binary = Download(batch);
        Assert.IsTrue(binary.Any(b => b == 1f) && binary.Any(b => b == 0f), "the pattern tests nothing");

        using var ones = Upload(Filled(count, 1f));
        using var masked = Acc.Allocate<float>(count);
        Acc.Corrupt(new Corruption(CorruptionKind.Mask, v), ones, rows, 1, features, random, masked);
        AssertSameBits(binary.Select(b => 1f - b).ToArray(), Download(masked), "mask of ones against the binarised batch");

        using var halves = Upload(Filled(count, 0.5f));
        using var salted = Acc.Allocate<float>(count);
        Acc.Corrupt(new Corruption(CorruptionKind.SaltPepper, 2 * v), halves, rows, 1, features, random, salted);
        var salt = Download(salted);
        for (int e = 0; e < count; e++)
            Assert.AreEqual(binary[e] == 1f, salt[e] == 0f, $"element {e}: binarised {binary[e]}, salt-and-pepper {salt[e]}");
    }

    /// <summary>
    /// Two 5x7 images: pixel (y, x) of the first is 10 y + x, so a block's mean is 10 (mean row) + (mean
    /// column), exact in float; the second is random, against the sum in row-major order over the block
    /// divided by its pixel count (the contract's own rule). Sums of the same terms in the same order and
    /// a correctly rounded division give the reference's bits; OpenCL allows its division 2.5 ulps.
    /// </summary>
    [TestMethod]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(7)]
    [DataRow(10)]
    public void CorruptDownsampleSetsEveryPixelToItsBlocksMean(int factor)
    {
        const int height = 5, width = 7, pixels = height * width;
        var clean = new float[2 * pixels];
        var random = RandomFloats(504, pixels, 0f, 1f);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            clean[y * width + x] = 10 * y + x;
            clean[pixels + y * width + x] = random[y * width + x];
        }
        var (cleanBuffer, cleanView) = UploadAtOffset(clean, 3);
        var (outBuffer, outView) = UploadAtOffset(Filled(clean.Length, float.NaN), 1);
        using (cleanBuffer) using (outBuffer)
        {
            Acc.Corrupt(new Corruption(CorruptionKind.Downsample, factor), cleanView, 2, height, width, default, outView);
            var actual = Download(outView);
            var exact = new float[pixels];
            var expected = new double[pixels];
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int y0 = y / factor * factor, y1 = Math.Min(y0 + factor, height), x0 = x / factor * factor, x1 = Math.Min(x0 + factor, width);
                exact[y * width + x] = 10 * (y0 + y1 - 1) / 2f + (x0 + x1 - 1) / 2f;
                float sum = 0f;
                for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++) sum += random[yy * width + xx];
                expected[y * width + x] = sum / ((y1 - y0) * (x1 - x0));
            }
            AssertClose(ToDouble(exact), actual.AsSpan(0, pixels), DivisionUlps * 1.2e-7, 0, $"downsample {factor}, image 10 y + x");
            AssertClose(expected, actual.AsSpan(pixels), DivisionUlps * 1.2e-7, 0, $"downsample {factor}, random image");
            AssertGuardsIntact(outBuffer, 1, clean.Length, "corrupted buffer");

            // A few pixels by hand: the corner blocks, full and cut short.
            float[] corners = factor switch
            {
                2 => [5.5f, 11f, 40.5f, 46f],      // {0,1,10,11}, {6,16}, {40,41}, {46}
                3 => [11f, 16f, 36f, 41f],         // rows 0-2 x cols 0-2, rows 0-2 x col 6, rows 3-4 x cols 0-2, rows 3-4 x col 6
                _ => [23f, 23f, 23f, 23f],         // one block: 10 * 2 + 3
            };
            AssertClose(ToDouble(corners), [actual[0], actual[width - 1], actual[(height - 1) * width], actual[pixels - 1]],
                DivisionUlps * 1.2e-7, 0, $"factor {factor}: corners");
        }
    }

    /// <summary>The ulps block means are held to: one (a correctly rounded division gives the reference's bits), three where OpenCL allows its division 2.5.</summary>
    private double DivisionUlps => Acc.Kind == BackendKind.OpenCL ? 3 : 1;

    /// <summary>Random corruption with an element offset is the matching stretch of one larger draw, whatever the offset's place in a group of four.</summary>
    [TestMethod]
    [DataRow(CorruptionKind.Gaussian, 0.4f, 1u)]
    [DataRow(CorruptionKind.Gaussian, 0.4f, 6u)]
    [DataRow(CorruptionKind.SaltPepper, 0.5f, 3u)]
    [DataRow(CorruptionKind.Mask, 0.5f, 2u)]
    [DataRow(CorruptionKind.Mask, 0.5f, 4097u)]
    public void CorruptWithAnOffsetDrawsItsStretchOfTheWholeDraw(CorruptionKind kind, float amount, uint offset)
    {
        const int rows = 2, height = 3, width = 5, count = rows * height * width;
        int total = (int)offset + count;
        var clean = RandomFloats(505, total, 0f, 1f);
        var whole = new RandomSource(77, 3, RandomStream.Corruption);
        var corruption = new Corruption(kind, amount);
        using var wholeClean = Upload(clean);
        using var wholeOut = Acc.Allocate<float>(total);
        Acc.Corrupt(corruption, wholeClean, 1, 1, total, whole, wholeOut);
        var expected = Download(wholeOut).AsSpan((int)offset).ToArray();

        using var partClean = Upload(clean.AsSpan((int)offset).ToArray());
        using var partOut = Acc.Allocate<float>(count);
        Acc.Corrupt(corruption, partClean, rows, height, width, whole with { Offset = offset }, partOut);
        AssertSameBits(expected, Download(partOut), $"{corruption} at offset {offset}");
    }

    [TestMethod]
    public void CorruptRejectsWrongShapesOverlapAndBadSettings()
    {
        const int rows = 2, height = 3, width = 4, count = rows * height * width;
        using var clean = Upload(RandomFloats(506, count, 0f, 1f));
        using var output = Upload(Filled(count + 8, Guard));
        var o = output.Slice(0, count);
        var random = new RandomSource(1, 1, RandomStream.Corruption);
        var mask = new Corruption(CorruptionKind.Mask, 0.5f);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Corrupt(mask, clean.Slice(0, count - 1), rows, height, width, random, o));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Corrupt(mask, clean, rows, height, width, random, output.Slice(0, count + 1)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Corrupt(mask, clean, rows, height, width + 1, random, o));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Corrupt(mask, clean, rows, 0, width, random, o));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Corrupt(mask, clean, 0, height, width, random, o));
        // corrupted over clean, in place or shifted by a few elements.
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Corrupt(mask, output.Slice(4, count), rows, height, width, random, o));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Corrupt(mask, o, rows, height, width, random, o));
        foreach (var bad in new[]
                 {
                     new Corruption(CorruptionKind.Gaussian, 0f), new Corruption(CorruptionKind.Gaussian, float.PositiveInfinity),
                     new Corruption(CorruptionKind.SaltPepper, 0f), new Corruption(CorruptionKind.Mask, 1.5f),
                     new Corruption(CorruptionKind.Mask, float.NaN), new Corruption(CorruptionKind.Downsample, 1f),
                     new Corruption(CorruptionKind.Downsample, 2.5f), new Corruption((CorruptionKind)9, 1f),
                 })
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Corrupt(bad, clean, rows, height, width, random, o), bad.ToString());
        Assert.IsTrue(Download(output).All(v => v == Guard), "a rejected op wrote to its output");
    }
}
