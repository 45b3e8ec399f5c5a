using IlgpuVae.Training.Images;

namespace IlgpuVae.Tests.Formats;

/// <summary>Tiling float images into one grayscale grid.</summary>
[TestClass]
public sealed class ImageGridTests
{
    [TestMethod]
    [DataRow(64, 28, 28, 8, 2)]
    [DataRow(5, 3, 4, 2, 1)]
    [DataRow(1, 1, 1, 1, 0)]
    [DataRow(7, 2, 5, 3, 3)]
    [DataRow(3, 4, 4, 8, 1)]
    public void PlacesEveryPixelInItsTile(int count, int height, int width, int columns, int padding)
    {
        var random = new Random(count + 31 * columns);
        float[] images = [.. Enumerable.Range(0, count * height * width).Select(_ => (float)random.NextDouble())];
        var (pixels, gridWidth, gridHeight) = ImageGrid.Tile(images, count, height, width, columns, padding);

        int rows = (count + columns - 1) / columns;
        Assert.AreEqual(columns * width + (columns + 1) * padding, gridWidth);
        Assert.AreEqual(rows * height + (rows + 1) * padding, gridHeight);
        Assert.AreEqual(gridWidth * gridHeight, pixels.Length);

        var covered = new bool[pixels.Length];
        for (int i = 0; i < count; i++)
        {
            int top = padding + (i / columns) * (height + padding);
            int left = padding + (i % columns) * (width + padding);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int at = (top + y) * gridWidth + left + x;
                    float value = images[(i * height + y) * width + x];
                    Assert.AreEqual((int)Math.Round(value * 255, MidpointRounding.AwayFromZero), pixels[at], $"image {i} at ({y}, {x})");
                    covered[at] = true;
                }
            }
        }
        // Everything outside the tiles, empty cells of the last row included, is padding grey.
        for (int at = 0; at < pixels.Length; at++)
        {
            if (!covered[at])
                Assert.AreEqual(ImageGrid.PaddingValue, pixels[at], $"pixel {at}");
        }
    }

    [TestMethod]
    public void ClampsAndRounds()
    {
        float[] values = [-1f, 0f, 0.5f, 1f / 255f * 0.49f, 1f / 255f * 0.51f, 0.999f, 1f, 7f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0.25f];
        var (pixels, width, height) = ImageGrid.Tile(values, 1, 1, values.Length, 1, 0);
        Assert.AreEqual((values.Length, 1), (width, height));
        CollectionAssert.AreEqual(new byte[] { 0, 0, 128, 0, 1, 255, 255, 255, 0, 255, 0, 64 }, pixels);
    }

    [TestMethod]
    public void PaddingIsAGreyDistinctFromBlackAndWhite()
    {
        int padding = ImageGrid.PaddingValue;
        Assert.IsTrue(padding > 32 && padding < 224, $"padding {padding}");
        var (pixels, _, _) = ImageGrid.Tile(new float[4], 1, 2, 2, 1, 1);
        Assert.AreEqual(16, pixels.Length);
        Assert.AreEqual(12, pixels.Count(p => p == ImageGrid.PaddingValue));
        Assert.AreEqual(4, pixels.Count(p => p == 0));
    }

    [TestMethod]
    public void AcceptsALongerBufferAndIgnoresTheRest()
    {
        float[] images = [0f, 1f, 1f, 0f, 0.5f, 0.5f];
        var (pixels, width, height) = ImageGrid.Tile(images, 2, 1, 2, 2, 0);
        Assert.AreEqual((4, 1), (width, height));
        CollectionAssert.AreEqual(new byte[] { 0, 255, 255, 0 }, pixels);
    }

    [TestMethod]
    public void RejectsBadArguments()
    {
        float[] images = new float[12];
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageGrid.Tile(images, 0, 2, 2, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageGrid.Tile(images, 3, 0, 2, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageGrid.Tile(images, 3, 2, 0, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageGrid.Tile(images, 3, 2, 2, 0, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ImageGrid.Tile(images, 3, 2, 2, 1, -1));
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageGrid.Tile(images, 4, 2, 2, 2, 0));
        StringAssert.Contains(e.Message, "need 16 values, got 12");
    }

    [TestMethod]
    public void GridWrittenAsPngPassesPngcheck()
    {
        const int count = 10, size = 28;
        float[] images = new float[count * size * size];
        for (int i = 0; i < images.Length; i++)
            images[i] = (float)(0.5 + 0.5 * Math.Sin(i * 0.01));
        var (pixels, width, height) = ImageGrid.Tile(images, count, size, size, 4, 2);
        using var dir = new TempDirectory();
        string path = dir.File("grid.png");
        PngEncoder.WriteGray8(path, width, height, pixels);
        var (exitCode, output) = PngEncoderTests.RunPngcheck([path]);
        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, $"OK: {path} ({width}x{height}, 8-bit grayscale");
        CollectionAssert.AreEqual(pixels, PngTestDecoder.Decode(File.ReadAllBytes(path)).Pixels);
    }
}
