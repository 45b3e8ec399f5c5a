using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Formats.Fuzzing;

/// <summary>
/// One reader under fuzzing: how to run it on bytes, the exceptions its documentation allows, where
/// its length fields are, and the valid files that mutation starts from. Parse also checks what a
/// successful read promises (a tensor holds its shape's values, ...), throwing
/// <see cref="BrokenInvariantException"/> when it does not.
/// </summary>
public sealed record FuzzTarget(string Name, LengthFields Fields, bool Gzip, Type[] Documented, Action<byte[]> Parse, Func<IReadOnlyList<byte[]>> Seeds)
{
    public override string ToString() => Name;
}

/// <summary>A read that succeeded but returned something inconsistent.</summary>
public sealed class BrokenInvariantException(string message) : Exception(message);

/// <summary>The readers of untrusted files: IDX images and labels, safetensors, model files, checkpoints and .npy arrays.</summary>
public static class FuzzTargets
{
    public const string FuzzName = "fuzz-input";

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("idx-images", LengthFields.IdxBigEndian, Gzip: true, [typeof(DataSetException)], ParseImages,
            () => [IdxTestFiles.Images(3, 4, 5), IdxTestFiles.Gzip(IdxTestFiles.Images(2, 3, 3)), IdxTestFiles.Images(0, 28, 28), IdxTestFiles.Images(1, 1, 1)]),
        new("idx-labels", LengthFields.IdxBigEndian, Gzip: true, [typeof(DataSetException)], ParseLabels,
            () => [IdxTestFiles.Labels(5), IdxTestFiles.Gzip(IdxTestFiles.Labels(10)), IdxTestFiles.Labels(0)]),
        new("safetensors", LengthFields.SafeTensors, Gzip: false, [typeof(InvalidDataException)], ParseSafeTensors, SafeTensorSeeds),
        new("model", LengthFields.SafeTensors, Gzip: false, [typeof(InvalidDataException)], ParseModel, () => [ModelSeed()]),
        new("checkpoint", LengthFields.SafeTensors, Gzip: false, [typeof(InvalidDataException)], ParseCheckpoint, () => [CheckpointSeed()]),
        new("npy", LengthFields.Npy, Gzip: false, [typeof(InvalidDataException)], NpyFileTests.ParseForFuzzing, NpyFileTests.FuzzSeeds),
    ];

    public static FuzzTarget Named(string name) => All.Single(t => t.Name == name);

    private static void ParseImages(byte[] bytes)
    {
        var images = IdxFile.ReadImages(new MemoryStream(bytes, writable: false), FuzzName);
        if (images.Pixels.LongLength != (long)images.Count * images.Rows * images.Columns)
            throw new BrokenInvariantException($"{images.Count} images of {images.Rows}x{images.Columns} came with {images.Pixels.LongLength} pixels");
        if (images.Count > 0) _ = images.Image(images.Count - 1).Length;
    }

    private static void ParseLabels(byte[] bytes) => IdxFile.ReadLabels(new MemoryStream(bytes, writable: false), FuzzName);

    private static void ParseSafeTensors(byte[] bytes)
    {
        var file = SafeTensors.Read(new MemoryStream(bytes, writable: false), FuzzName);
        foreach (var tensor in file.Tensors)
        {
            long elements = tensor.Shape.Aggregate(1L, (product, d) => product * d);
            if (tensor.Data.LongLength != elements || tensor.Shape.Any(d => d < 0))
                throw new BrokenInvariantException($"tensor '{tensor.Name}' of shape [{string.Join(", ", tensor.Shape)}] holds {tensor.Data.Length} values");
        }
    }

    private static void ParseModel(byte[] bytes)
    {
        var model = VaeModelFile.Load(new MemoryStream(bytes, writable: false), FuzzName);
        if (model.Parameters.Length != new ParameterLayout(model.Config).Length)
            throw new BrokenInvariantException($"{model.Parameters.Length} parameters for {model.Config.Describe()}");
    }

    private static void ParseCheckpoint(byte[] bytes)
    {
        var checkpoint = CheckpointFile.Load(new MemoryStream(bytes, writable: false), FuzzName);
        int n = new ParameterLayout(checkpoint.Config).Length;
        if (checkpoint.Parameters.Length != n || checkpoint.FirstMoment.Length != n || checkpoint.SecondMoment.Length != n)
            throw new BrokenInvariantException($"parameters and moments of {checkpoint.Parameters.Length}, {checkpoint.FirstMoment.Length}, " +
                $"{checkpoint.SecondMoment.Length} floats for a layout of {n}");
        checkpoint.Options.Validate();
    }

    private static IReadOnlyList<byte[]> SafeTensorSeeds() =>
    [
        Written(path => SafeTensors.Write(path, SafeTensorsTests.SampleTensors(), new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ü" })),
        Written(path => SafeTensors.Write(path, [new("a", [2], [1f, 2f]), new("b", [1, 1], [-1f])])),
    ];

    /// <summary>A small model: 6 inputs (3x2 images), two hidden layers, two latent dimensions.</summary>
    private static readonly VaeConfig SmallConfig = new() { Input = 6, ImageHeight = 3, ImageWidth = 2, Hidden = [5, 3], Latent = 2 };

    private static byte[] ModelSeed()
    {
        var parameters = new float[new ParameterLayout(SmallConfig).Length];
        for (int i = 0; i < parameters.Length; i++) parameters[i] = MathF.Sin(i);
        return Written(path => VaeModelFile.Save(path, SmallConfig, parameters, new Dictionary<string, string> { ["seed"] = "1" }));
    }

    private static byte[] CheckpointSeed()
    {
        int n = new ParameterLayout(SmallConfig).Length;
        var checkpoint = new TrainingCheckpoint(SmallConfig,
            new TrainingOptions { Epochs = 3, MaxSteps = 50, BatchSize = 4, Adam = new AdamSettings(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false) },
            new TrainingPosition(7, 2, 1, 12.5, 4), new float[n], new float[n], new float[n],
            new DataSignature("/data", 6, 4, 3, 2, 0x0123456789ABCDEF), "cpu");
        return Written(path => CheckpointFile.Save(path, checkpoint));
    }

    private static byte[] Written(Action<string> write)
    {
        using var dir = new TempDirectory();
        string path = dir.File("seed.safetensors");
        write(path);
        return File.ReadAllBytes(path);
    }
}
