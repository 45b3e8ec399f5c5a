using IlgpuVae.Training.Data;

namespace IlgpuVae.Tests.Formats;

/// <summary>The IDX reader on small files built here: raw and gzipped, and every way a file can be broken.</summary>
[TestClass]
public sealed class IdxFileTests
{
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ReadsImagesAndLabelsRawOrGzipped(bool gzip)
    {
        using var dir = new TempDirectory();
        byte[] pixels = IdxTestFiles.Pattern(5 * 3 * 4);
        byte[] labels = [7, 0, 9, 3, 3];
        byte[] imageFile = IdxTestFiles.Images(5, 3, 4, pixels);
        byte[] labelFile = IdxTestFiles.Labels(5, labels);
        File.WriteAllBytes(dir.File("images"), gzip ? IdxTestFiles.Gzip(imageFile) : imageFile);
        File.WriteAllBytes(dir.File("labels"), gzip ? IdxTestFiles.Gzip(labelFile) : labelFile);

        IdxImages images = IdxFile.ReadImages(dir.File("images"));
        Assert.AreEqual((5, 3, 4), (images.Count, images.Rows, images.Columns));
        Assert.AreEqual(12, images.PixelsPerImage);
        CollectionAssert.AreEqual(pixels, images.Pixels);
        CollectionAssert.AreEqual(pixels[24..36], images.Image(2).ToArray());
        CollectionAssert.AreEqual(labels, IdxFile.ReadLabels(dir.File("labels")));
    }

    [TestMethod]
    public void CompressionIsDetectedByContentNotByName()
    {
        using var dir = new TempDirectory();
        byte[] imageFile = IdxTestFiles.Images(2, 2, 2);
        // Gzipped data without the suffix, raw data with it: both must read.
        File.WriteAllBytes(dir.File("plain-name"), IdxTestFiles.Gzip(imageFile));
        File.WriteAllBytes(dir.File("raw.gz"), imageFile);
        CollectionAssert.AreEqual(imageFile[16..], IdxFile.ReadImages(dir.File("plain-name")).Pixels);
        CollectionAssert.AreEqual(imageFile[16..], IdxFile.ReadImages(dir.File("raw.gz")).Pixels);
    }

    [TestMethod]
    public void ZeroImagesIsAValidFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("empty"), IdxTestFiles.Images(0, 28, 28));
        IdxImages images = IdxFile.ReadImages(dir.File("empty"));
        Assert.AreEqual((0, 28, 28, 0), (images.Count, images.Rows, images.Columns, images.Pixels.Length));
    }

    [TestMethod]
    public void MissingFileIsNamed()
    {
        using var dir = new TempDirectory();
        string path = dir.File("nowhere-idx3-ubyte");
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "does not exist");
        Assert.AreEqual(path, e.FilePath);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void LabelFileGivenForImagesIsRecognised(bool gzip)
    {
        using var dir = new TempDirectory();
        byte[] labels = IdxTestFiles.Labels(10);
        File.WriteAllBytes(dir.File("labels"), gzip ? IdxTestFiles.Gzip(labels) : labels);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("labels")));
        StringAssert.Contains(e.Message, dir.File("labels"));
        StringAssert.Contains(e.Message, "wrong magic");
        StringAssert.Contains(e.Message, "expected 0x00000803");
        StringAssert.Contains(e.Message, "found 0x00000801");
        StringAssert.Contains(e.Message, "label file given for images");
    }

    [TestMethod]
    public void ImageFileGivenForLabelsIsRecognised()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("images"), IdxTestFiles.Images(2, 2, 2));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadLabels(dir.File("images")));
        StringAssert.Contains(e.Message, dir.File("images"));
        StringAssert.Contains(e.Message, "expected 0x00000801");
        StringAssert.Contains(e.Message, "found 0x00000803");
        StringAssert.Contains(e.Message, "image file given for labels");
    }

    [TestMethod]
    public void ForeignFileIsNotIdx()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("page.html"), "<!DOCTYPE html><html>404 Not Found</html>");
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("page.html")));
        StringAssert.Contains(e.Message, dir.File("page.html"));
        StringAssert.Contains(e.Message, "not an IDX file");
    }

    [TestMethod]
    public void OtherIdxElementTypeIsDescribed()
    {
        using var dir = new TempDirectory();
        // 0x0D = float elements: a valid IDX file of the wrong kind.
        File.WriteAllBytes(dir.File("floats"), IdxTestFiles.Images(1, 1, 1, new byte[] { 0 }, magic: 0x00000D03));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("floats")));
        StringAssert.Contains(e.Message, "found 0x00000D03 (IDX of element type 0x0D with 3 dimensions)");
    }

    [TestMethod]
    [DataRow(false, "")]
    [DataRow(true, " after decompression")]
    public void TruncatedPayloadGivesExpectedAndFoundSizes(bool gzip, string suffix)
    {
        using var dir = new TempDirectory();
        byte[] full = IdxTestFiles.Images(3, 2, 2);  // 16 + 12 bytes
        byte[] cut = full[..26];
        File.WriteAllBytes(dir.File("cut"), gzip ? IdxTestFiles.Gzip(cut) : cut);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("cut")));
        StringAssert.Contains(e.Message, dir.File("cut"));
        StringAssert.Contains(e.Message, "truncated: expected 28 bytes (16-byte header + 3 images of 2x2), found 26" + suffix);
    }

    [TestMethod]
    public void TruncatedLabelsGiveExpectedAndFoundSizes()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("labels"), IdxTestFiles.Labels(10)[..15]);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadLabels(dir.File("labels")));
        StringAssert.Contains(e.Message, "truncated: expected 18 bytes (8-byte header + 10 labels), found 15");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(3)]
    [DataRow(10)]
    public void TruncatedHeaderIsReported(int length)
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("stub"), IdxTestFiles.Images(1, 1, 1)[..length]);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("stub")));
        StringAssert.Contains(e.Message, dir.File("stub"));
        StringAssert.Contains(e.Message, $"truncated: expected at least 16 header bytes, found {length}");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void TrailingBytesAreReported(bool gzip)
    {
        using var dir = new TempDirectory();
        byte[] longer = [.. IdxTestFiles.Images(2, 2, 2), 1, 2, 3];
        File.WriteAllBytes(dir.File("long"), gzip ? IdxTestFiles.Gzip(longer) : longer);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("long")));
        StringAssert.Contains(e.Message, "too long: expected 24 bytes (16-byte header + 2 images of 2x2), found 27");
    }

    [TestMethod]
    public void CorruptHeaderCountsAreReportedWithoutHugeAllocations()
    {
        using var dir = new TempDirectory();
        byte[] negative = IdxTestFiles.Images(1, 2, 2);
        negative[4] = 0xFF;  // count becomes negative
        File.WriteAllBytes(dir.File("negative"), negative);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("negative")));
        StringAssert.Contains(e.Message, "negative image count");

        // A gzipped file claiming two billion labels but holding 4: the reader must report it, not allocate 2 GB.
        File.WriteAllBytes(dir.File("huge.gz"), IdxTestFiles.Gzip(IdxTestFiles.Labels(2_000_000_000, [1, 2, 3, 4])));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadLabels(dir.File("huge.gz")));
        Assert.IsTrue(GC.GetTotalAllocatedBytes(precise: true) - before < 200L << 20, "allocation bounded by the data present");
        StringAssert.Contains(e.Message, "truncated: expected 2000000008 bytes");
        StringAssert.Contains(e.Message, "found 12 after decompression");

        File.WriteAllBytes(dir.File("too-many"), IdxTestFiles.Labels(int.MaxValue, [1]));
        e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadLabels(dir.File("too-many")));
        StringAssert.Contains(e.Message, "more than one array can hold");

        File.WriteAllBytes(dir.File("zero-rows"), IdxTestFiles.Images(3, 0, 28, []));
        e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("zero-rows")));
        StringAssert.Contains(e.Message, "0x28 pixels");
    }

    [TestMethod]
    public void CorruptGzipIsReported()
    {
        using var dir = new TempDirectory();
        byte[] gz = IdxTestFiles.Gzip(IdxTestFiles.Images(50, 8, 8));
        // Keep the gzip header (magic, method, flags) and scramble the deflate data after it.
        for (int i = 12; i < gz.Length - 8; i++)
            gz[i] = (byte)(0xA5 ^ i * 13);
        File.WriteAllBytes(dir.File("bad.gz"), gz);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("bad.gz")));
        StringAssert.Contains(e.Message, dir.File("bad.gz"));
        StringAssert.Contains(e.Message, "not valid gzip data");
        Assert.IsInstanceOfType<InvalidDataException>(e.InnerException);
    }

    [TestMethod]
    public void CutGzipStreamIsReported()
    {
        using var dir = new TempDirectory();
        byte[] gz = IdxTestFiles.Gzip(IdxTestFiles.Images(50, 8, 8, IdxTestFiles.Pattern(50 * 64)));
        File.WriteAllBytes(dir.File("cut.gz"), gz[..(gz.Length / 2)]);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxFile.ReadImages(dir.File("cut.gz")));
        StringAssert.Contains(e.Message, dir.File("cut.gz"));
        // Either report is right for a half download: the gzip layer or the size check may see it first.
        Assert.IsTrue(e.Message.Contains("truncated") || e.Message.Contains("gzip"), e.Message);
    }
}
