using System.Diagnostics;
using System.Text;
using IlgpuVae.Training.Images;

namespace IlgpuVae.Tests.Formats;

/// <summary>The PNG writer: CRC-32 known answers, pngcheck's verdict, and decode round trips.</summary>
[TestClass]
public sealed class PngEncoderTests
{
    [TestMethod]
    [DataRow("", 0x00000000u)]
    [DataRow("a", 0xE8B7BE43u)]
    [DataRow("123456789", 0xCBF43926u)]
    [DataRow("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32MatchesKnownAnswers(string text, uint expected)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        Assert.AreEqual(expected, Crc32.Compute(bytes));
        // Continuing a CRC over a split input gives the CRC of the whole.
        for (int split = 0; split <= bytes.Length; split++)
            Assert.AreEqual(expected, Crc32.Append(Crc32.Compute(bytes.AsSpan(0, split)), bytes.AsSpan(split)));
    }

    [TestMethod]
    public void Crc32OfTheIendChunkIsTheOneEveryPngCarries()
    {
        // Every PNG ends with 00 00 00 00 'IEND' AE 42 60 82.
        Assert.AreEqual(0xAE426082u, Crc32.Compute("IEND"u8));
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(3, 5)]
    [DataRow(28, 28)]
    [DataRow(33, 7)]
    [DataRow(1, 64)]
    [DataRow(257, 3)]
    [DataRow(242, 242)]
    public void DecodesBackToThePixels(int width, int height)
    {
        foreach (byte[] pixels in TestImages(width, height))
        {
            byte[] png = PngEncoder.EncodeGray8(width, height, pixels);
            var decoded = PngTestDecoder.Decode(png);
            Assert.AreEqual((width, height), (decoded.Width, decoded.Height));
            CollectionAssert.AreEqual(pixels, decoded.Pixels);
            CollectionAssert.AreEqual(new[] { "IHDR", "IDAT", "IEND" }, decoded.ChunkTypes);
        }
    }

    [TestMethod]
    public void ChoosesFiltersThatFitTheImage()
    {
        const int width = 40, height = 30;
        // A horizontal ramp is predicted by the left neighbour, a vertical one by the row above.
        byte[] horizontal = new byte[width * height];
        byte[] vertical = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                horizontal[y * width + x] = (byte)(x * 5 + (y % 2) * 100);
                vertical[y * width + x] = (byte)(y * 7 + (x % 2) * 100);
            }
        }
        var h = PngTestDecoder.Decode(PngEncoder.EncodeGray8(width, height, horizontal));
        var v = PngTestDecoder.Decode(PngEncoder.EncodeGray8(width, height, vertical));
        CollectionAssert.AreEqual(horizontal, h.Pixels);
        CollectionAssert.AreEqual(vertical, v.Pixels);
        Assert.IsTrue(h.FilterTypes.All(f => f != 0), "a ramp along x is never left unfiltered");
        Assert.IsTrue(v.FilterTypes.Skip(1).All(f => f is 2 or 4), "a ramp along y uses the row above");
    }

    [TestMethod]
    public void PngcheckAcceptsWrittenFiles()
    {
        using var dir = new TempDirectory();
        var sizes = new (int Width, int Height)[] { (1, 1), (2, 1), (1, 2), (7, 3), (28, 28), (33, 17), (242, 242), (1001, 2) };
        var paths = new List<string>();
        foreach (var (width, height) in sizes)
        {
            byte[] pixels = TestImages(width, height).Last();
            string path = dir.File($"image-{width}x{height}.png");
            PngEncoder.WriteGray8(path, width, height, pixels);
            CollectionAssert.AreEqual(PngEncoder.EncodeGray8(width, height, pixels), File.ReadAllBytes(path));
            paths.Add(path);
        }
        Assert.AreEqual(sizes.Length, Directory.GetFiles(dir.Path).Length, "no temporary files are left behind");

        var (exitCode, output) = RunPngcheck(paths);
        Assert.AreEqual(0, exitCode, output);
        foreach (var ((width, height), path) in sizes.Zip(paths))
            StringAssert.Contains(output, $"OK: {path} ({width}x{height}, 8-bit grayscale, non-interlaced");
    }

    [TestMethod]
    public void PngcheckRejectsADamagedFile()
    {
        // Guards the test above: pngcheck must actually fail on a broken CRC, or its "OK" proves nothing.
        using var dir = new TempDirectory();
        byte[] png = PngEncoder.EncodeGray8(5, 5, new byte[25]);
        png[^1] ^= 0xFF;  // last byte of the IEND CRC
        string path = dir.File("damaged.png");
        File.WriteAllBytes(path, png);
        var (exitCode, output) = RunPngcheck([path]);
        Assert.AreNotEqual(0, exitCode, output);
        StringAssert.Contains(output, "CRC error");
    }

    [TestMethod]
    public void RejectsBadArguments()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PngEncoder.EncodeGray8(0, 1, []));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PngEncoder.EncodeGray8(1, 0, []));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PngEncoder.EncodeGray8(-3, 2, new byte[6]));
        var e = Assert.ThrowsExactly<ArgumentException>(() => PngEncoder.EncodeGray8(3, 2, new byte[5]));
        StringAssert.Contains(e.Message, "needs 6 pixels, got 5");
        Assert.ThrowsExactly<ArgumentException>(() => PngEncoder.EncodeGray8(3, 2, new byte[7]));
        using var dir = new TempDirectory();
        Assert.ThrowsExactly<ArgumentException>(() => PngEncoder.WriteGray8(dir.File("x.png"), 2, 2, new byte[3]));
        Assert.IsFalse(File.Exists(dir.File("x.png")));
    }

    /// <summary>Constant, noise, ramps and a smooth blob: between them every filter type gets chosen.</summary>
    internal static IEnumerable<byte[]> TestImages(int width, int height)
    {
        var random = new Random(width * 1000 + height);
        var noise = new byte[width * height];
        random.NextBytes(noise);
        yield return new byte[width * height];
        yield return noise;
        yield return Generate(width, height, (x, y) => x * 255 / Math.Max(1, width - 1));
        yield return Generate(width, height, (x, y) => (x * 3 + y * 5) & 0xFF);
        yield return Generate(width, height, (x, y) =>
            (int)(255 * Math.Exp(-(Math.Pow(x - width / 2.0, 2) + Math.Pow(y - height / 2.0, 2)) / (0.1 + width * height / 8.0))) ^ (random.Next(4)));
    }

    private static byte[] Generate(int width, int height, Func<int, int, int> value)
    {
        var pixels = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                pixels[y * width + x] = (byte)value(x, y);
        return pixels;
    }

    internal static (int ExitCode, string Output) RunPngcheck(IEnumerable<string> paths)
    {
        var start = new ProcessStartInfo("pngcheck") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string path in paths)
            start.ArgumentList.Add(path);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("pngcheck did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            if (IlgpuVae.Tests.Conformance.KernelConformance.IsCi) Assert.Fail("pngcheck is missing in CI (apt-get install pngcheck)");
            Assert.Inconclusive("pngcheck is not installed (apt-get install pngcheck)");
            throw;
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            Assert.IsTrue(process.WaitForExit(20_000), "pngcheck finished");
            return (process.ExitCode, stdout + stderr.Result);
        }
    }
}
