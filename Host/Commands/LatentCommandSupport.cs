using System.Globalization;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;
using IlgpuVae.Training.Data;

namespace IlgpuVae.Host.Commands;

/// <summary>One split of the data: its images and labels, named as messages name it.</summary>
internal sealed record DataSplit(IdxImages Images, byte[] Labels, string Name, string Directory)
{
    public int Count => Images.Count;

    public ReadOnlySpan<byte> Pixels(int index, int count) => Images.Pixels.AsSpan(index * Images.PixelsPerImage, count * Images.PixelsPerImage);
}

/// <summary>Options and checks that encode, decode, interpolate, manifold and traverse share.</summary>
internal static class LatentCommandSupport
{
    /// <summary>Rows a network holds at once: the commands encode and decode in chunks of this many.</summary>
    public const int ChunkRows = 1000;

    /// <summary>The most images one PNG grid takes (a bigger set belongs in a .npy file).</summary>
    public const int MaxGridImages = 1 << 16;

    public static OptionSpec DataOption() => new("--data", "DIR", "directory of the IDX files", IdxDataSet.DefaultDirectory);

    public static OptionSpec SplitOption() => new("--split", "S", "test or train", "test");

    /// <summary>--data and --split, loaded and checked against the model's image size.</summary>
    public static DataSplit LoadSplit(ParsedOptions o, VaeModel model, string modelPath)
    {
        string dataDir = o.Path("--data", "a directory of IDX files") ?? IdxDataSet.DefaultDirectory;
        bool train = o.Choice("--split", false, new Dictionary<string, bool> { ["test"] = false, ["train"] = true });
        var data = IdxDataSet.Load(dataDir);
        var images = train ? data.Train : data.Test;
        if (images.PixelsPerImage != model.Config.Input)
            throw new DataSetException($"the images in '{dataDir}' are {images.Rows}x{images.Columns}, but the model '{modelPath}' " +
                $"takes {model.Config.ImageHeight}x{model.Config.ImageWidth}", dataDir);
        string name = train ? "train" : "test";
        if (images.Count == 0) throw new DataSetException($"the {name} split of '{dataDir}' holds no images", dataDir);
        return new DataSplit(images, train ? data.TrainLabels : data.TestLabels, name, dataDir);
    }

    /// <summary>An image index option (--from, --to, --image) into the split.</summary>
    public static int ImageIndex(ParsedOptions o, string option, DataSplit split)
    {
        string text = o.Required(option);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= split.Count)
            throw ParsedOptions.Bad(option, text, $"an image index 0..{split.Count - 1} of the {split.Name} split of '{split.Directory}'");
        return index;
    }

    /// <summary>
    /// Refuses a GAN for a command that decodes given latents: its generator draws its own z, and
    /// only a VAE's decoder takes latent rows from outside.
    /// </summary>
    public static void RequireDecoder(VaeModel model, string path, string command)
    {
        if (!ModelKinds.IsVae(model.Config.Kind))
            throw new UsageException($"'{command}' decodes with a VAE's decoder; '{path}' is a {ModelKinds.Of(model.Config.Kind).Name} model, whose " +
                "generator draws its own z (draw from it with 'ilgpu-vae sample --model ...')");
    }

    /// <summary>
    /// --label K of a conditional model (null when not given); a usage error for the other kinds,
    /// which take no class.
    /// </summary>
    public static byte? Label(ParsedOptions o, VaeConfig config)
    {
        if (o.String("--label") is not { } text) return null;
        if (config.Classes == 0)
            throw new UsageException($"option '--label' is for conditional models; this is a {ModelKinds.Of(config.Kind).Name} model");
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k >= config.Classes)
            throw ParsedOptions.Bad("--label", text, $"a class 0..{config.Classes - 1}");
        return (byte)k;
    }

    /// <summary>--label K, required of a conditional model (the class its decoder draws), absent for the others.</summary>
    public static byte[] RequiredLabel(ParsedOptions o, VaeConfig config, string command, int count)
    {
        byte? label = Label(o, config);
        if (config.Classes == 0) return [];
        if (label is null)
            throw new UsageException($"'{command}' of a conditional model needs option '--label K', the class to decode (0..{config.Classes - 1})");
        return Enumerable.Repeat(label.Value, count).ToArray();
    }

    /// <summary>
    /// An output file named by an option: its directory created, a directory, a FIFO or a device
    /// refused (the atomic write would replace the node itself). Returns the full path.
    /// </summary>
    public static string OutputFile(string option, string path, string example)
    {
        if (string.IsNullOrWhiteSpace(path)) throw ParsedOptions.Bad(option, path, $"a file name such as {example}");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"option '{option}': '{path}' is a directory; expected a file name such as {example}");
        if (AtomicFileWriter.WhyNotReplaceable(full) is { } problem)
            throw new UsageException($"option '{option}': '{path}' {problem}; expected a regular file such as {example}");
        try { Directory.CreateDirectory(Path.GetDirectoryName(full)!); }
        catch (IOException e) { throw new UsageException($"option '{option}': cannot create the directory of '{path}': {e.Message}"); }
        return full;
    }

    /// <summary>Refuses two outputs that name the same file: the second write would replace the first.</summary>
    public static void Distinct(params (string Option, string? Path)[] outputs)
    {
        var given = outputs.Where(x => x.Path is not null).ToArray();
        for (int i = 0; i < given.Length; i++)
            for (int j = i + 1; j < given.Length; j++)
                if (string.Equals(given[i].Path, given[j].Path, StringComparison.Ordinal))
                    throw new UsageException($"options '{given[i].Option}' and '{given[j].Option}' name the same file '{given[i].Path}'; give each its own");
    }

    /// <summary>
    /// Reads a .npy input named by an option; a missing or malformed file is a data error naming it.
    /// <paramref name="inspect"/> sees the header before the data is read (to refuse a wrong shape early).
    /// </summary>
    public static NpyArray ReadNpy(string option, string path, Action<NpyHeader>? inspect = null)
    {
        try { return NpyFile.Read(path, inspect); }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new DataSetException($"option '{option}': {e.Message}", path, e);
        }
        catch (IOException e)
        {
            throw new DataSetException($"option '{option}': .npy file '{path}' cannot be read: {e.Message}", path, e);
        }
    }

    /// <summary>Writes images as a PNG grid of the given number of columns (the tiles the model's image size).</summary>
    public static void WriteGrid(string path, ReadOnlySpan<float> images, int count, VaeConfig config, int columns) =>
        Training.Outputs.ImageOutputs.WriteGrid(path, images, count, config, columns);

    /// <summary>The size of a grid of count tiles in the given columns, as "W x H pixels".</summary>
    public static string GridSize(int count, VaeConfig config, int columns)
    {
        int rows = (count + columns - 1) / columns, padding = Training.Outputs.ImageOutputs.Padding;
        return $"{columns * config.ImageWidth + (columns + 1) * padding}x{rows * config.ImageHeight + (rows + 1) * padding} pixels";
    }

    /// <summary>Images of the split scaled to [0, 1], count x Input: the originals beside decoded ones.</summary>
    public static float[] Originals(DataSplit split, int index)
    {
        var pixels = split.Pixels(index, 1);
        var image = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) image[i] = pixels[i] * (1f / 255f);
        return image;
    }

    internal static string Invariant(double value, string format = "G4") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The model's one-hot of a class, Classes floats.</summary>
    public static float[] OneHot(VaeConfig config, int label)
    {
        var oneHot = new float[config.Classes];
        oneHot[label] = 1f;
        return oneHot;
    }
}
