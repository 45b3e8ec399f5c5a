using System.Buffers.Binary;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;
using SharpFuzz;

// ilgpu-vae-fuzz TARGET                 the afl-fuzz fork server for TARGET (run by Fuzz/run-afl.sh)
// ilgpu-vae-fuzz TARGET --seeds DIR     writes valid files for TARGET into DIR, afl-fuzz's starting corpus
// ilgpu-vae-fuzz TARGET --run FILE...   reads each FILE as the fuzzer would, to reproduce a crash
//
// A reader may fail only with the exception its documentation names; anything else escapes and is a
// crash for afl-fuzz. The same contract as Tests/Formats/Fuzzing, with coverage feedback.

var targets = new Dictionary<string, (Type Documented, Action<Stream> Read, Func<IEnumerable<(string, byte[])>> Seeds)>
{
    ["idx-images"] = (typeof(DataSetException), s => IdxFile.ReadImages(s, "input"), Seeds.Images),
    ["idx-labels"] = (typeof(DataSetException), s => IdxFile.ReadLabels(s, "input"), Seeds.Labels),
    ["safetensors"] = (typeof(InvalidDataException), s => SafeTensors.Read(s, "input"), Seeds.SafeTensorFiles),
    ["model"] = (typeof(InvalidDataException), s => VaeModelFile.Load(s, "input"), Seeds.Model),
    ["checkpoint"] = (typeof(InvalidDataException), s => CheckpointFile.Load(s, "input"), Seeds.Checkpoint),
    ["npy"] = (typeof(InvalidDataException), s => NpyFile.Read(s, "input"), Seeds.Npy),
};

if (args.Length == 0 || !targets.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: ilgpu-vae-fuzz TARGET [--seeds DIR | --run FILE...]; targets: {string.Join(", ", targets.Keys)}");
    return 2;
}

void ReadAsDocumented(Stream input)
{
    // The readers need a seekable stream; afl-fuzz hands over a pipe or shared memory.
    var copy = new MemoryStream();
    input.CopyTo(copy);
    copy.Position = 0;
    try { target.Read(copy); }
    catch (Exception e) when (target.Documented.IsInstanceOfType(e)) { }
}

if (args.Length >= 3 && args[1] == "--seeds")
{
    Directory.CreateDirectory(args[2]);
    foreach (var (name, bytes) in target.Seeds()) File.WriteAllBytes(Path.Combine(args[2], name), bytes);
    return 0;
}
if (args.Length >= 3 && args[1] == "--run")
{
    foreach (string file in args.Skip(2))
    {
        using var stream = File.OpenRead(file);
        ReadAsDocumented(stream);
        Console.WriteLine($"{file}: read as documented");
    }
    return 0;
}
Fuzzer.OutOfProcess.Run(ReadAsDocumented);
return 0;

/// <summary>Small valid files of each format, written by the program's own writers.</summary>
internal static class Seeds
{
    private static readonly VaeConfig Small = new() { Input = 6, ImageHeight = 3, ImageWidth = 2, Hidden = [5, 3], Latent = 2 };

    public static IEnumerable<(string, byte[])> Images() =>
    [
        ("images-3x4x5", Idx(0x803, [3, 4, 5], 60)),
        ("images-empty", Idx(0x803, [0, 28, 28], 0)),
    ];

    public static IEnumerable<(string, byte[])> Labels() => [("labels-5", Idx(0x801, [5], 5))];

    public static IEnumerable<(string, byte[])> SafeTensorFiles() =>
    [
        ("tensors", Written(p => SafeTensors.Write(p, [new("a", [2, 2], [1f, 2f, 3f, 4f]), new("b", [0, 3], []), new("c", [], [5f])],
            new Dictionary<string, string> { ["format"] = "pt" }))),
    ];

    public static IEnumerable<(string, byte[])> Model() =>
        [("model", Written(p => VaeModelFile.Save(p, Small, new float[new ParameterLayout(Small).Length])))];

    public static IEnumerable<(string, byte[])> Checkpoint()
    {
        int n = new ParameterLayout(Small).Length;
        var checkpoint = new TrainingCheckpoint(Small, new TrainingOptions { Epochs = 2, BatchSize = 4 }, new TrainingPosition(3, 1, 3, 1.5, 12),
            new float[n], new float[n], new float[n], new DataSignature("/data", 6, 4, 3, 2, 42), "cpu");
        return [("checkpoint", Written(p => CheckpointFile.Save(p, checkpoint)))];
    }

    public static IEnumerable<(string, byte[])> Npy() =>
    [
        ("npy-f32", NpyFile.ToBytes<float>([1f, -2f, 3.5f, 0f], [2, 2])),
        ("npy-u8-v2", NpyFile.ToBytes<byte>([0, 9, 255], [3], major: 2)),
    ];

    private static byte[] Idx(int magic, int[] dimensions, int items)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + items];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        for (int i = 0; i < items; i++) bytes[4 + 4 * dimensions.Length + i] = (byte)(i * 37 + 11);
        return bytes;
    }

    private static byte[] Written(Action<string> write)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ilgpu-vae-fuzz-seed-{Guid.NewGuid():N}");
        try
        {
            write(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
