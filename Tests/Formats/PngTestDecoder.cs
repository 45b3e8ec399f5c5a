using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using IlgpuVae.Training.Images;

namespace IlgpuVae.Tests.Formats;

/// <summary>
/// An independent reader of 8-bit grayscale PNGs, strict about structure, so tests can check the
/// encoder by decoding what it wrote: chunk layout and CRCs, IHDR fields, zlib data, all five filters.
/// </summary>
internal static class PngTestDecoder
{
    public sealed record Decoded(int Width, int Height, byte[] Pixels, byte[] FilterTypes, string[] ChunkTypes);

    public static Decoded Decode(byte[] png)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        CollectionAssert.AreEqual(signature, png[..8], "PNG signature");

        var chunks = new List<string>();
        var idat = new MemoryStream();
        int width = 0, height = 0;
        int offset = 8;
        while (offset < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            string type = Encoding.ASCII.GetString(png, offset + 4, 4);
            ReadOnlySpan<byte> data = png.AsSpan(offset + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            Assert.AreEqual(Crc32.Compute(png.AsSpan(offset + 4, 4 + length)), crc, $"CRC of {type}");
            chunks.Add(type);
            if (type == "IHDR")
            {
                Assert.AreEqual(13, length);
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                CollectionAssert.AreEqual(new byte[] { 8, 0, 0, 0, 0 }, data[8..].ToArray(), "depth 8, grayscale, deflate, adaptive, no interlace");
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }
            offset += 12 + length;
        }
        Assert.AreEqual(png.Length, offset, "chunks end exactly at the end of the file");
        Assert.AreEqual("IHDR", chunks[0]);
        Assert.AreEqual("IEND", chunks[^1]);

        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        var filtered = new MemoryStream();
        zlib.CopyTo(filtered);
        byte[] raw = filtered.ToArray();
        Assert.AreEqual((long)(width + 1) * height, raw.Length, "one filter byte plus width bytes per row");

        var pixels = new byte[width * height];
        var filters = new byte[height];
        for (int y = 0; y < height; y++)
        {
            byte filter = raw[y * (width + 1)];
            filters[y] = filter;
            for (int x = 0; x < width; x++)
            {
                int a = x > 0 ? pixels[y * width + x - 1] : 0;
                int b = y > 0 ? pixels[(y - 1) * width + x] : 0;
                int c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => PaethReference(a, b, c),
                    _ => throw new AssertFailedException($"row {y} has filter type {filter}"),
                };
                pixels[y * width + x] = (byte)(raw[y * (width + 1) + 1 + x] + predictor);
            }
        }
        return new Decoded(width, height, pixels, filters, [.. chunks]);
    }

    /// <summary>The Paeth predictor exactly as the PNG specification writes it.</summary>
    private static int PaethReference(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
            return a;
        if (pb <= pc)
            return b;
        return c;
    }
}
