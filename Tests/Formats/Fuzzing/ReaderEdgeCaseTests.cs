using System.Buffers.Binary;
using System.Text;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;

namespace IlgpuVae.Tests.Formats.Fuzzing;

/// <summary>
/// The classes of input the fuzzer found (or that sit next to them), written out by hand so that
/// each reads as what it is: header fields whose product overflows, gzip files that claim more than
/// they hold, header text that is not Unicode.
/// </summary>
[TestClass]
public sealed class ReaderEdgeCaseTests
{
    [TestMethod]
    [DataRow(0x10000, 0x1000000, 0x1000000, "16777216x16777216")] // 2^16 * 2^24 * 2^24 = 2^64 wraps to 0 in a long
    [DataRow(1, 0x7FFFFFFF, 0x7FFFFFFF, "2147483647x2147483647")]
    [DataRow(0, 65536, 65536, "65536x65536")] // no images, but 2^32 pixels each overflow an int
    public void ImageDimensionsWhoseProductOverflowsAreRefused(int count, int rows, int columns, string size)
    {
        byte[] raw = IdxTestFiles.Images(0, 1, 1);
        BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(12), columns);
        foreach (byte[] bytes in new[] { raw, IdxTestFiles.Gzip(raw) })
        {
            var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(new MemoryStream(bytes), "dims.idx"));
            StringAssert.Contains(e.Message, "'dims.idx'");
            StringAssert.Contains(e.Message, size);
            StringAssert.Contains(e.Message, "more than one array can hold");
        }
    }

    [TestMethod]
    public void ASmallGzipFileClaimingBillionsOfItemsAllocatesLittle()
    {
        byte[] labels = IdxTestFiles.Labels(0);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), int.MaxValue - 64);
        byte[] images = IdxTestFiles.Images(0, 28, 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), 2_000_000);
        foreach (var (bytes, read) in new (byte[], Action<Stream>)[]
        {
            (IdxTestFiles.Gzip(labels), s => IdxFile.ReadLabels(s, "labels.gz")),
            (IdxTestFiles.Gzip(images), s => IdxFile.ReadImages(s, "images.gz")),
        })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.ThrowsExactly<DataSetException>(() => read(new MemoryStream(bytes)));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            StringAssert.Contains(e.Message, "is truncated");
            Assert.IsLessThan(1L << 20, allocated, $"{allocated} bytes allocated for a {bytes.Length}-byte file");
        }
    }

    [TestMethod]
    public void AGzipFileOfTheRealSizeStillReadsWhole()
    {
        // The payload buffer of a gzip file grows from 64 KiB: a file larger than that must come out whole.
        byte[] pixels = IdxTestFiles.Pattern(300 * 28 * 28);
        var images = IdxFile.ReadImages(new MemoryStream(IdxTestFiles.Gzip(IdxTestFiles.Images(300, 28, 28, pixels))), "big.gz");
        Assert.AreEqual(300, images.Count);
        CollectionAssert.AreEqual(pixels, images.Pixels);
    }

    [TestMethod]
    [DataRow(new byte[] { 0xC3, 0x28 }, "not valid UTF-8 (at byte 10")]  // a lead byte without its continuation
    [DataRow(new byte[] { 0xFF }, "not valid UTF-8")]
    [DataRow(new byte[] { 0xED, 0xA0, 0x80 }, "not valid UTF-8")]       // a UTF-16 surrogate encoded as UTF-8
    public void HeaderNamesThatAreNotUtf8AreInvalidData(byte[] badName, string expected)
    {
        byte[] header = [.. "{\""u8, .. badName, .. "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8];
        var e = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(File(header, 4)), "names.safetensors"));
        StringAssert.Contains(e.Message, "'names.safetensors'");
        StringAssert.Contains(e.Message, expected);
    }

    [TestMethod]
    public void MetadataWithHalfASurrogatePairIsInvalidData()
    {
        // Valid JSON, valid UTF-8, but "\ud800" alone is no Unicode string.
        byte[] header = Encoding.UTF8.GetBytes("""{"__metadata__":{"note":"\ud800"}}""");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(File(header, 0)), "surrogate.safetensors"));
        StringAssert.Contains(e.Message, "'surrogate.safetensors'");
        StringAssert.Contains(e.Message, "not valid Unicode");
    }

    [TestMethod]
    public void StreamsAreReadFromTheirPositionAndLeftOpen()
    {
        byte[] labels = IdxTestFiles.Labels(3);
        var stream = new MemoryStream([0xAA, 0xBB, .. labels]) { Position = 2 };
        CollectionAssert.AreEqual(new byte[] { 0, 1, 2 }, IdxFile.ReadLabels(stream, "at-offset"));
        Assert.IsTrue(stream.CanRead, "the caller's stream stays open");
    }

    private static byte[] File(byte[] header, int dataBytes)
    {
        byte[] bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }
}
