namespace IlgpuVae.Training.Data;

/// <summary>
/// A train/test split in the MNIST file layout: the four IDX files of MNIST, Fashion-MNIST, KMNIST
/// and the rest of the family, checked for consistency (one label per image, one image size).
/// </summary>
public sealed class IdxDataSet
{
    /// <summary>Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>How to get data; appended to every "not found" message.</summary>
    public const string HowToGetData =
        "To get Fashion-MNIST run 'sudo apt-get install dataset-fashion-mnist' (it installs to " + DefaultDirectory +
        "), or pass --data DIR with the four IDX files of MNIST, KMNIST or another set of the family: " +
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz).";

    public IdxDataSet(IdxImages train, byte[] trainLabels, IdxImages test, byte[] testLabels)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(trainLabels);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(testLabels);
        CheckPixels(train, nameof(train));
        CheckPixels(test, nameof(test));
        if (trainLabels.Length != train.Count)
            throw new ArgumentException($"{trainLabels.Length} train labels for {train.Count} train images.", nameof(trainLabels));
        if (testLabels.Length != test.Count)
            throw new ArgumentException($"{testLabels.Length} test labels for {test.Count} test images.", nameof(testLabels));
        if (train.Rows != test.Rows || train.Columns != test.Columns)
            throw new ArgumentException($"Test images are {test.Rows}x{test.Columns} but train images are {train.Rows}x{train.Columns}.", nameof(test));
        Train = train;
        TrainLabels = trainLabels;
        Test = test;
        TestLabels = testLabels;
    }

    public IdxImages Train { get; }

    public byte[] TrainLabels { get; }

    public IdxImages Test { get; }

    public byte[] TestLabels { get; }

    /// <summary>
    /// Loads the four files from <paramref name="directory"/>. Each may be named with '-' or '.'
    /// before "idx" (both spellings circulate) and may carry a .gz suffix.
    /// </summary>
    /// <exception cref="DataSetException">Missing directory or files, malformed or inconsistent files.</exception>
    public static IdxDataSet Load(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (File.Exists(directory))
            throw new DataSetException($"Data directory '{directory}' is a file, not a directory; --data names the directory " +
                $"that holds the four IDX files. {HowToGetData}", directory);
        if (!Directory.Exists(directory))
            throw new DataSetException($"Data directory '{directory}' does not exist. {HowToGetData}", directory);

        string?[] paths =
        [
            Find(directory, "train-images", "idx3-ubyte"),
            Find(directory, "train-labels", "idx1-ubyte"),
            Find(directory, "t10k-images", "idx3-ubyte"),
            Find(directory, "t10k-labels", "idx1-ubyte"),
        ];
        string[] expected = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
        var missing = expected.Where((_, i) => paths[i] is null).Select(name => name + "[.gz]").ToArray();
        if (missing.Length > 0)
            throw new DataSetException(
                $"Data directory '{directory}' lacks {string.Join(", ", missing)} ({Contents(directory)}). {HowToGetData}", directory);

        string trainImagesPath = paths[0]!, trainLabelsPath = paths[1]!, testImagesPath = paths[2]!, testLabelsPath = paths[3]!;
        IdxImages train = IdxFile.ReadImages(trainImagesPath);
        byte[] trainLabels = IdxFile.ReadLabels(trainLabelsPath);
        IdxImages test = IdxFile.ReadImages(testImagesPath);
        byte[] testLabels = IdxFile.ReadLabels(testLabelsPath);

        CheckCounts(train, trainImagesPath, trainLabels, trainLabelsPath);
        CheckCounts(test, testImagesPath, testLabels, testLabelsPath);
        if (train.Count == 0)
            throw new DataSetException($"IDX file '{trainImagesPath}' holds no images; there is nothing to train on.", trainImagesPath);
        if (test.Count == 0)
            throw new DataSetException($"IDX file '{testImagesPath}' holds no images; there is nothing to evaluate on.", testImagesPath);
        if (train.Rows != test.Rows || train.Columns != test.Columns)
            throw new DataSetException(
                $"IDX file '{testImagesPath}' has images of {test.Rows}x{test.Columns} pixels but '{trainImagesPath}' has " +
                $"{train.Rows}x{train.Columns}; train and test images must have the same size.", testImagesPath);
        return new IdxDataSet(train, trainLabels, test, testLabels);
    }

    private static void CheckCounts(IdxImages images, string imagesPath, byte[] labels, string labelsPath)
    {
        if (labels.Length != images.Count)
            throw new DataSetException(
                $"IDX file '{labelsPath}' holds {labels.Length} labels but '{imagesPath}' holds {images.Count} images; " +
                "each image needs exactly one label.", labelsPath);
    }

    private static void CheckPixels(IdxImages images, string parameter)
    {
        if (images.Pixels is null || images.Pixels.LongLength != (long)images.Count * images.Rows * images.Columns)
            throw new ArgumentException(
                $"{images.Count} images of {images.Rows}x{images.Columns} need {(long)images.Count * images.Rows * images.Columns} pixels, " +
                $"got {images.Pixels?.LongLength ?? 0}.", parameter);
    }

    /// <summary>
    /// The first of the accepted names that is a file; failing that, the first that exists at all (a
    /// directory of that name), so that the reader can say what is wrong with it rather than "missing".
    /// </summary>
    private static string? Find(string directory, string stem, string kind)
    {
        string[] candidates = [.. new[] { $"{stem}-{kind}", $"{stem}.{kind}" }
            .SelectMany(name => new[] { name, name + ".gz" })
            .Select(name => Path.Combine(directory, name))];
        return candidates.FirstOrDefault(File.Exists) ?? candidates.FirstOrDefault(Directory.Exists);
    }

    private static string Contents(string directory)
    {
        string[] names;
        try
        {
            names = [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"it cannot be listed: {e.Message}";
        }
        if (names.Length == 0)
            return "it is empty";
        const int shown = 8;
        string list = string.Join(", ", names.Take(shown));
        return names.Length > shown ? $"it holds {list} and {names.Length - shown} more" : $"it holds {list}";
    }
}
