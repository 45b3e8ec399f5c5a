using IlgpuVae.Host.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae decode`: the decoder's mean images of latent rows read from a .npy file.</summary>
public sealed class DecodeCommand : Command
{
    public override string Name => "decode";
    public override string Summary => "decode latent rows of a NumPy .npy file to images (.npy or a PNG grid)";

    public override string Description =>
        "Reads --in, a float32 .npy array of shape (count, latent) (or (latent,) for one row), and writes the\n" +
        "decoder's mean image of each row (sigmoid of the logits for a Bernoulli model): as a count x input\n" +
        "float32 .npy array when --out ends in .npy, as a PNG grid when it ends in .png. The means that\n" +
        "'ilgpu-vae encode' writes decode to the reconstructions. A conditional model decodes every row as\n" +
        "class --label K, or row i as the i-th label of --labels (a .npy of integers, e.g. encode's labels.npy).\n" +
        "A hierarchical model's rows are z1, the latent its decoder takes.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--model", "FILE", "model.safetensors written by 'ilgpu-vae train' (required)"),
        new("--in", "FILE", "the latent rows, a float32 .npy file (required)"),
        new("--out", "FILE", "the images: a .npy file, or a .png grid (required)"),
        new("--label", "K", "conditional models: the class of every row"),
        new("--labels", "FILE", "conditional models: the class of each row, a .npy file of integers"),
        new("--columns", "N", "images per row of a PNG grid", "8, or ceil(sqrt(count)) above 64"),
        SharedOptions.DeviceOption(),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        string modelPath = o.Required("--model");
        string inPath = o.Path("--in", "a .npy file of latent rows") ?? o.Required("--in");
        string outText = o.Required("--out");
        bool png = outText.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        if (!png && !outText.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw ParsedOptions.Bad("--out", outText, "a file name ending in .npy (the images as an array) or .png (a grid)");
        string outPath = LatentCommandSupport.OutputFile("--out", outText, png ? "images.png" : "images.npy");
        if (o.Has("--label") && o.Has("--labels")) throw new UsageException("options '--label' and '--labels' exclude each other: give one");
        var model = SharedOptions.LoadModel(modelPath);
        LatentCommandSupport.RequireDecoder(model, modelPath, "decode");
        context.Model = new ModelMemory(model.Parameters.Length, ModelMemory.InferenceBuffers);
        var config = model.Config;
        if (config.Classes == 0 && o.Has("--labels"))
            throw new UsageException($"option '--labels' is for conditional models; this is a {ModelKinds.Of(config.Kind).Name} model");
        if (config.Classes > 0 && !o.Has("--label") && !o.Has("--labels"))
            throw new UsageException($"'decode' of a conditional model needs the class of the rows: '--label K' (0..{config.Classes - 1}) " +
                "or '--labels FILE' (e.g. the labels.npy that encode writes)");
        byte? label = LatentCommandSupport.Label(o, config);

        var (z, count) = ReadLatents(inPath, modelPath, config);
        byte[] labels = config.Classes == 0 ? [] : label is { } k ? Enumerable.Repeat(k, count).ToArray() : ReadLabels(o, config, count);
        if (png && count > LatentCommandSupport.MaxGridImages)
            throw new UsageException($"option '--out': a PNG grid takes at most {LatentCommandSupport.MaxGridImages} images, and '{inPath}' holds {count} rows; " +
                "write them to a .npy file");
        if (!png && (long)count * config.Input > Array.MaxLength)
            throw new UsageException($"'{inPath}' holds {count} rows, whose {count}x{config.Input} images do not fit one array; decode fewer at a time");
        int columns = o.Int("--columns", count <= 64 ? 8 : (int)Math.Ceiling(Math.Sqrt(count)), min: 1);

        using var accelerator = SharedOptions.OpenDevice(o);
        using var network = ModelKinds.Create(accelerator, config, Math.Min(count, LatentCommandSupport.ChunkRows), model.Parameters);
        float[] images = LatentOutputs.Decode(network, z, count, labels, context.Cancellation);
        if (png)
        {
            LatentCommandSupport.WriteGrid(outPath, images, count, config, Math.Min(columns, count));
            context.Out.WriteLine($"wrote the decoded means of {count} latent rows as a PNG grid to {outPath}");
        }
        else
        {
            NpyFile.Write<float>(outPath, images, [count, config.Input]);
            context.Out.WriteLine($"wrote the decoded means of {count} latent rows ({count} x {config.Input} float32, images of " +
                $"{config.ImageHeight}x{config.ImageWidth}) to {outPath}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The rows of --in: float32 of shape (count, latent) or (latent,). A shape that does not fit the
    /// model is a usage error (the wrong file for this model), named with both sizes; values that are
    /// not finite are a data error.
    /// </summary>
    private static (float[] Z, int Count) ReadLatents(string path, string modelPath, VaeConfig config)
    {
        int latent = config.Latent;
        string what = config.Kind == ModelKind.Hierarchical ? $"latent size (z1) of {latent}" : $"latent size of {latent}";
        var array = LatentCommandSupport.ReadNpy("--in", path, header =>
        {
            if (header.Type != NpyType.Float32)
                throw new DataSetException($"option '--in': .npy file '{path}' holds {header.TypeText} values of shape {header.ShapeText}; " +
                    "latent rows are float32 ('<f4') (in numpy: np.save(path, z.astype(np.float32)))", path);
            bool fits = header.Shape.Length switch
            {
                1 => header.Shape[0] == latent,
                2 => header.Shape[1] == latent,
                _ => false,
            };
            if (!fits)
                throw new UsageException($"option '--in': '{path}' holds an array of shape {header.ShapeText}, but the model '{modelPath}' has a " +
                    $"{what}: expected shape (count, {latent})");
            if (header.Elements == 0)
                throw new UsageException($"option '--in': '{path}' holds an array of shape {header.ShapeText}, with no latent rows to decode");
        });
        float[] z = array.Float32Values();
        for (int i = 0; i < z.Length; i++)
            if (!float.IsFinite(z[i]))
                throw new DataSetException($"option '--in': .npy file '{path}' holds {z[i]} at row {i / latent}, column {i % latent}; " +
                    "latent rows must be finite", path);
        return (z, z.Length / latent);
    }

    /// <summary>--labels: one integer class a row, as a (count,) or (count, 1) array.</summary>
    private static byte[] ReadLabels(ParsedOptions o, VaeConfig config, int count)
    {
        string path = o.Path("--labels", "a .npy file of labels")!;
        var array = LatentCommandSupport.ReadNpy("--labels", path, header =>
        {
            bool fits = header.Shape.Length switch
            {
                1 => header.Shape[0] == count,
                2 => header.Shape[0] == count && header.Shape[1] == 1,
                _ => false,
            };
            if (!fits)
                throw new UsageException($"option '--labels': '{path}' holds an array of shape {header.ShapeText}; expected one label for each of the " +
                    $"{count} latent rows, shape ({count},)");
            if (header.Type == NpyType.Float32)
                throw new DataSetException($"option '--labels': .npy file '{path}' holds {header.TypeText} values; labels are integers " +
                    "(uint8 '|u1', int32 '<i4' or int64 '<i8')", path);
        });
        int[] values;
        try { values = array.IntegerValues(); }
        catch (InvalidDataException e) { throw new DataSetException($"option '--labels': {e.Message}", path, e); }
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            if (values[i] < 0 || values[i] >= config.Classes)
                throw new DataSetException($"option '--labels': '{path}' gives row {i} the label {values[i]}; the model has classes 0..{config.Classes - 1}", path);
            labels[i] = (byte)values[i];
        }
        return labels;
    }
}
