using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Tests.Formats;

/// <summary>Builds small IDX files, well-formed or deliberately broken, in a temporary directory.</summary>
internal static class IdxTestFiles
{
    public static byte[] Images(int count, int rows, int columns, byte[]? pixels = null, int magic = 0x00000803)
    {
        pixels ??= Pattern(count * rows * columns);
        var bytes = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        pixels.CopyTo(bytes, 16);
        return bytes;
    }

    public static byte[] Labels(int count, byte[]? labels = null, int magic = 0x00000801)
    {
        labels ??= [.. Enumerable.Range(0, count).Select(i => (byte)(i % 10))];
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>Distinct, position-dependent bytes so a shifted or reordered read shows.</summary>
    public static byte[] Pattern(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 37 + 11))];

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>Writes the four files of a small, consistent data set (gzipped) into <paramref name="directory"/>.</summary>
    public static void WriteDataSet(string directory, int trainCount = 6, int testCount = 4, int rows = 3, int columns = 2)
    {
        File.WriteAllBytes(Path.Combine(directory, "train-images-idx3-ubyte.gz"), Gzip(Images(trainCount, rows, columns)));
        File.WriteAllBytes(Path.Combine(directory, "train-labels-idx1-ubyte.gz"), Gzip(Labels(trainCount)));
        File.WriteAllBytes(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), Gzip(Images(testCount, rows, columns)));
        File.WriteAllBytes(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"), Gzip(Labels(testCount)));
    }
}

/// <summary>A fresh temporary directory, removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ivae-formats-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
