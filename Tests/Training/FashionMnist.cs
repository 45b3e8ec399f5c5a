using IlgpuVae.Training.Data;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// The real Fashion-MNIST of /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),
/// loaded once per test run, and subsets of it for tests that must stay fast on two cores.
/// </summary>
internal static class FashionMnist
{
    private static readonly Lazy<IdxDataSet?> Loaded = new(() =>
        Directory.Exists(IdxDataSet.DefaultDirectory) ? IdxDataSet.Load(IdxDataSet.DefaultDirectory) : null);

    /// <summary>The full data set; Inconclusive when it is not installed (CI installs it, so there it always runs).</summary>
    public static IdxDataSet Full => Loaded.Value ?? Missing();

    public static IdxImages First(IdxImages images, int count)
    {
        count = Math.Min(count, images.Count);
        return new IdxImages(count, images.Rows, images.Columns, images.Pixels.AsSpan(0, count * images.Rows * images.Columns).ToArray());
    }

    /// <summary>
    /// Writes the first trainCount / testCount images and labels of the real set as the four raw IDX
    /// files into directory, for runs of the command line on a subset.
    /// </summary>
    /// <param name="testFromTraining">Take the test images from the training set, for a test split larger than the real 10,000.</param>
    public static void WriteSubset(string directory, int trainCount, int testCount, bool testFromTraining = false)
    {
        var full = Full;
        Directory.CreateDirectory(directory);
        WriteImages(Path.Combine(directory, "train-images-idx3-ubyte"), First(full.Train, trainCount));
        WriteLabels(Path.Combine(directory, "train-labels-idx1-ubyte"), full.TrainLabels.AsSpan(0, trainCount));
        WriteImages(Path.Combine(directory, "t10k-images-idx3-ubyte"), First(testFromTraining ? full.Train : full.Test, testCount));
        WriteLabels(Path.Combine(directory, "t10k-labels-idx1-ubyte"), (testFromTraining ? full.TrainLabels : full.TestLabels).AsSpan(0, testCount));
    }

    private static void WriteImages(string path, IdxImages images)
    {
        using var stream = File.Create(path);
        WriteBigEndian(stream, 0x00000803, images.Count, images.Rows, images.Columns);
        stream.Write(images.Pixels);
    }

    private static void WriteLabels(string path, ReadOnlySpan<byte> labels)
    {
        using var stream = File.Create(path);
        WriteBigEndian(stream, 0x00000801, labels.Length);
        stream.Write(labels);
    }

    private static void WriteBigEndian(Stream stream, params int[] values)
    {
        Span<byte> word = stackalloc byte[4];
        foreach (int v in values)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, v);
            stream.Write(word);
        }
    }

    private static IdxDataSet Missing()
    {
        // CI installs the data set: there a missing data set is a failure, never a skip.
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail($"Fashion-MNIST is missing from {IdxDataSet.DefaultDirectory} in CI");
        Assert.Inconclusive($"Fashion-MNIST is not installed in {IdxDataSet.DefaultDirectory} (apt-get install dataset-fashion-mnist)");
        throw new InvalidOperationException("unreachable");
    }
}
