using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using IlgpuVae.Training.IO;

namespace IlgpuVae.Training.Images;

/// <summary>
/// Minimal PNG writer for 8-bit grayscale images (colour type 0): signature, IHDR, one IDAT, IEND.
/// No imaging package resolves for this project, and grayscale is all the sample and reconstruction
/// grids need.
/// </summary>
public static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Encodes <paramref name="pixels"/> (row-major, <paramref name="width"/> x <paramref name="height"/>
    /// bytes, 0 black to 255 white) as a PNG file image.
    /// </summary>
    public static byte[] EncodeGray8(int width, int height, ReadOnlySpan<byte> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        long expected = (long)width * height;
        if (pixels.Length != expected)
            throw new ArgumentException($"A {width}x{height} grayscale image needs {expected} pixels, got {pixels.Length}.", nameof(pixels));
        // Each row gets a filter-type byte; the filtered image must fit one array.
        if ((long)(width + 1L) * height > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(height), $"A {width}x{height} image is too large to encode in memory.");

        using var png = new MemoryStream();
        png.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;   // bit depth
        header[9] = 0;   // colour type: grayscale
        header[10] = 0;  // compression: deflate
        header[11] = 0;  // filter method: adaptive, five types
        header[12] = 0;  // no interlace
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", Compress(Filter(width, height, pixels)));
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Encodes and writes atomically, so a reader never sees half an image.</summary>
    public static void WriteGray8(string path, int width, int height, ReadOnlySpan<byte> pixels)
    {
        byte[] png = EncodeGray8(width, height, pixels);
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>
    /// Chooses a filter per row by the smallest sum of absolute filtered values, taken as signed
    /// bytes: the heuristic the PNG specification recommends and libpng uses. Smooth sample grids
    /// compress noticeably better with it than unfiltered.
    /// </summary>
    private static byte[] Filter(int width, int height, ReadOnlySpan<byte> pixels)
    {
        int stride = width + 1;
        var filtered = new byte[(long)stride * height];
        Span<byte> candidate = new byte[width];
        Span<byte> best = new byte[width];
        Span<byte> zeros = new byte[width];
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = pixels.Slice(y * width, width);
            ReadOnlySpan<byte> above = y > 0 ? pixels.Slice((y - 1) * width, width) : zeros;
            long bestCost = long.MaxValue;
            byte bestType = 0;
            for (byte type = 0; type <= 4; type++)
            {
                long cost = Apply(type, row, above, candidate);
                if (cost < bestCost)
                {
                    bestCost = cost;
                    bestType = type;
                    candidate.CopyTo(best);
                }
            }
            long offset = (long)y * stride;
            filtered[offset] = bestType;
            best.CopyTo(filtered.AsSpan((int)offset + 1, width));
        }
        return filtered;
    }

    /// <summary>Filters one row with PNG filter <paramref name="type"/>; returns its cost.</summary>
    private static long Apply(byte type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, Span<byte> output)
    {
        long cost = 0;
        for (int x = 0; x < row.Length; x++)
        {
            // One byte per pixel, so the "left" neighbour is simply the previous byte.
            int a = x > 0 ? row[x - 1] : 0;
            int b = above[x];
            int c = x > 0 ? above[x - 1] : 0;
            int predictor = type switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            byte value = unchecked((byte)(row[x] - predictor));
            output[x] = value;
            cost += Math.Abs((int)(sbyte)value);
        }
        return cost;
    }

    /// <summary>The Paeth predictor: whichever of left, above, upper-left is closest to a + b - c.</summary>
    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
            return a;
        return pb <= pc ? b : c;
    }

    private static byte[] Compress(byte[] data)
    {
        // PNG's IDAT holds a zlib stream (header + deflate + Adler-32), which is what ZLibStream writes.
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
            zlib.Write(data);
        return output.ToArray();
    }

    private static void WriteChunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);

        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        png.Write(typeBytes);
        png.Write(data);

        // The CRC covers the chunk type and data, not the length.
        uint crc = Crc32.Append(Crc32.Compute(typeBytes), data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        png.Write(word);
    }
}
