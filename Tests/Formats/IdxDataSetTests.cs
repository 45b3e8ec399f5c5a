using IlgpuVae.Training.Data;

namespace IlgpuVae.Tests.Formats;

/// <summary>Loading a whole IDX data set: the real Fashion-MNIST, and inconsistent sets built here.</summary>
[TestClass]
public sealed class IdxDataSetTests
{
    private static IdxDataSet? _fashion;

    /// <summary>Fashion-MNIST as Debian's dataset-fashion-mnist installs it, loaded once for the class.</summary>
    private static IdxDataSet Fashion
    {
        get
        {
            if (!Directory.Exists(IdxDataSet.DefaultDirectory))
                Assert.Inconclusive($"{IdxDataSet.DefaultDirectory} is missing: apt-get install dataset-fashion-mnist.");
            return _fashion ??= IdxDataSet.Load(IdxDataSet.DefaultDirectory);
        }
    }

    [TestMethod]
    public void RealFashionMnistHasItsPublishedShape()
    {
        IdxDataSet data = Fashion;
        Assert.AreEqual((60000, 28, 28), (data.Train.Count, data.Train.Rows, data.Train.Columns));
        Assert.AreEqual((10000, 28, 28), (data.Test.Count, data.Test.Rows, data.Test.Columns));
        Assert.AreEqual(60000 * 784, data.Train.Pixels.Length);
        Assert.AreEqual(10000 * 784, data.Test.Pixels.Length);
        Assert.AreEqual(60000, data.TrainLabels.Length);
        Assert.AreEqual(10000, data.TestLabels.Length);
    }

    [TestMethod]
    public void RealFashionMnistLabelsAreBalancedOverTenClasses()
    {
        IdxDataSet data = Fashion;
        // Fashion-MNIST has exactly 6,000 train and 1,000 test images per class, labels 0..9.
        int[] train = new int[256], test = new int[256];
        foreach (byte label in data.TrainLabels)
            train[label]++;
        foreach (byte label in data.TestLabels)
            test[label]++;
        CollectionAssert.AreEqual(Enumerable.Repeat(6000, 10).ToArray(), train[..10]);
        CollectionAssert.AreEqual(Enumerable.Repeat(1000, 10).ToArray(), test[..10]);
        Assert.AreEqual(0, train[10..].Sum() + test[10..].Sum());
        // The first training example is an ankle boot (class 9), as in the data set's own preview.
        Assert.AreEqual(9, data.TrainLabels[0]);
    }

    [TestMethod]
    public void RealFashionMnistMeanPixelMatchesTheUsualNormalisation()
    {
        IdxDataSet data = Fashion;
        // Fashion-MNIST is normalised with mean 0.2860 (train) throughout the literature; 0.2868 for test.
        Assert.AreEqual(0.2860, MeanIntensity(data.Train.Pixels), 5e-5);
        Assert.AreEqual(0.2868, MeanIntensity(data.Test.Pixels), 5e-5);
        // Images are on a black background: the corner pixel is dark in almost every image.
        int darkCorners = Enumerable.Range(0, data.Train.Count).Count(i => data.Train.Image(i)[0] < 16);
        Assert.IsTrue(darkCorners > 59000, $"{darkCorners} dark corners");
    }

    [TestMethod]
    public void RawAndGzippedCopiesOfTheRealFilesReadTheSame()
    {
        if (!Directory.Exists(IdxDataSet.DefaultDirectory))
            Assert.Inconclusive($"{IdxDataSet.DefaultDirectory} is missing.");
        using var dir = new TempDirectory();
        string source = Path.Combine(IdxDataSet.DefaultDirectory, "t10k-images-idx3-ubyte.gz");
        string gzCopy = dir.File("t10k-images-idx3-ubyte.gz");
        File.Copy(source, gzCopy);
        string rawCopy = dir.File("t10k-images-idx3-ubyte");
        using (var input = new System.IO.Compression.GZipStream(File.OpenRead(source), System.IO.Compression.CompressionMode.Decompress))
        using (var output = File.Create(rawCopy))
            input.CopyTo(output);

        IdxImages fromGz = IdxFile.ReadImages(gzCopy);
        IdxImages fromRaw = IdxFile.ReadImages(rawCopy);
        Assert.AreEqual(16 + 10000 * 784, new FileInfo(rawCopy).Length);
        Assert.AreEqual((10000, 28, 28), (fromRaw.Count, fromRaw.Rows, fromRaw.Columns));
        CollectionAssert.AreEqual(fromGz.Pixels, fromRaw.Pixels);
        Assert.AreEqual(0.2868, MeanIntensity(fromRaw.Pixels), 5e-5);
    }

    [TestMethod]
    public void LoadsAlternativeFileNames()
    {
        using var dir = new TempDirectory();
        // MNIST mirrors spell the names with a dot before "idx"; some keep them uncompressed.
        File.WriteAllBytes(dir.File("train-images.idx3-ubyte"), IdxTestFiles.Images(4, 2, 3));
        File.WriteAllBytes(dir.File("train-labels.idx1-ubyte"), IdxTestFiles.Labels(4));
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), IdxTestFiles.Images(2, 2, 3));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte.gz"), IdxTestFiles.Gzip(IdxTestFiles.Labels(2, [5, 6])));
        IdxDataSet data = IdxDataSet.Load(dir.Path);
        Assert.AreEqual((4, 2, 2, 3), (data.Train.Count, data.Test.Count, data.Test.Rows, data.Test.Columns));
        CollectionAssert.AreEqual(new byte[] { 5, 6 }, data.TestLabels);
    }

    [TestMethod]
    public void MissingDirectorySaysHowToGetTheData()
    {
        string path = Path.Combine(Path.GetTempPath(), "ivae-no-such-dir-" + Guid.NewGuid().ToString("N"));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxDataSet.Load(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "does not exist");
        StringAssert.Contains(e.Message, "apt-get install dataset-fashion-mnist");
        StringAssert.Contains(e.Message, "/usr/share/datasets/fashion-mnist");
        StringAssert.Contains(e.Message, "--data DIR");
    }

    [TestMethod]
    public void MissingFilesAreListed()
    {
        using var dir = new TempDirectory();
        IdxTestFiles.WriteDataSet(dir.Path);
        File.Delete(dir.File("t10k-labels-idx1-ubyte.gz"));
        File.Delete(dir.File("train-images-idx3-ubyte.gz"));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxDataSet.Load(dir.Path));
        StringAssert.Contains(e.Message, dir.Path);
        StringAssert.Contains(e.Message, "lacks train-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]");
        StringAssert.Contains(e.Message, "it holds t10k-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz");
        StringAssert.Contains(e.Message, "apt-get install dataset-fashion-mnist");
    }

    [TestMethod]
    public void ImageLabelCountMismatchNamesBothFiles()
    {
        using var dir = new TempDirectory();
        IdxTestFiles.WriteDataSet(dir.Path, trainCount: 6);
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte.gz"), IdxTestFiles.Gzip(IdxTestFiles.Labels(5)));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxDataSet.Load(dir.Path));
        StringAssert.Contains(e.Message, dir.File("train-labels-idx1-ubyte.gz"));
        StringAssert.Contains(e.Message, dir.File("train-images-idx3-ubyte.gz"));
        StringAssert.Contains(e.Message, "holds 5 labels but");
        StringAssert.Contains(e.Message, "holds 6 images");
    }

    [TestMethod]
    public void DifferentTrainAndTestImageSizesAreReported()
    {
        using var dir = new TempDirectory();
        IdxTestFiles.WriteDataSet(dir.Path, rows: 3, columns: 2);
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte.gz"), IdxTestFiles.Gzip(IdxTestFiles.Images(4, 2, 3)));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxDataSet.Load(dir.Path));
        StringAssert.Contains(e.Message, dir.File("t10k-images-idx3-ubyte.gz"));
        StringAssert.Contains(e.Message, "images of 2x3 pixels");
        StringAssert.Contains(e.Message, "has 3x2");
    }

    [TestMethod]
    public void MalformedFileInADataSetIsNamed()
    {
        using var dir = new TempDirectory();
        IdxTestFiles.WriteDataSet(dir.Path);
        // Images and labels swapped by mistake.
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte.gz"), IdxTestFiles.Gzip(IdxTestFiles.Labels(4)));
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxDataSet.Load(dir.Path));
        StringAssert.Contains(e.Message, dir.File("t10k-images-idx3-ubyte.gz"));
        StringAssert.Contains(e.Message, "label file given for images");
    }

    [TestMethod]
    public void EmptyTrainingSetIsRejected()
    {
        using var dir = new TempDirectory();
        IdxTestFiles.WriteDataSet(dir.Path, trainCount: 0);
        var e = Assert.ThrowsExactly<DataSetException>(() => IdxDataSet.Load(dir.Path));
        StringAssert.Contains(e.Message, "holds no images");
    }

    [TestMethod]
    public void ConstructorChecksConsistency()
    {
        var images = new IdxImages(2, 2, 2, new byte[8]);
        Assert.ThrowsExactly<ArgumentException>(() => new IdxDataSet(images, new byte[3], images, new byte[2]));
        Assert.ThrowsExactly<ArgumentException>(() => new IdxDataSet(new IdxImages(2, 2, 2, new byte[7]), new byte[2], images, new byte[2]));
        Assert.ThrowsExactly<ArgumentException>(() => new IdxDataSet(images, new byte[2], new IdxImages(2, 1, 4, new byte[8]), new byte[2]));
        var ok = new IdxDataSet(images, new byte[2], images, new byte[2]);
        Assert.AreSame(images, ok.Test);
    }

    private static double MeanIntensity(byte[] pixels)
    {
        long sum = 0;
        foreach (byte p in pixels)
            sum += p;
        return sum / 255.0 / pixels.Length;
    }
}
