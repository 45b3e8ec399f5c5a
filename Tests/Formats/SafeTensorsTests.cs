using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Formats;

/// <summary>safetensors round trips, header layout, and every malformed header the reader must refuse.</summary>
[TestClass]
public sealed class SafeTensorsTests
{
    internal static SafeTensor[] SampleTensors()
    {
        var random = new Random(7);
        return
        [
            new("encoder.fc1.weight", [4, 3], [.. Enumerable.Range(0, 12).Select(_ => (float)(random.NextDouble() * 2 - 1))]),
            new("encoder.fc1.bias", [4], [0.5f, -0.0f, float.Epsilon, -3.4028235e38f]),
            new("scalar", [], [MathF.PI]),
            new("empty", [0, 5], []),
            new("décodeur.poids", [2, 1, 2], [1e-30f, 1e30f, -7.25f, 0.1f]),
        ];
    }

    [TestMethod]
    public void RoundTripsTensorsAndMetadata()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        SafeTensor[] tensors = SampleTensors();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["config"] = "{\"latent\": 20, \"hidden\": [400]}", ["note"] = "ünïcode + <tags>" };
        SafeTensors.Write(path, tensors, metadata);

        SafeTensorFile file = SafeTensors.Read(path);
        Assert.AreEqual(tensors.Length, file.Tensors.Count);
        for (int i = 0; i < tensors.Length; i++)
        {
            Assert.AreEqual(tensors[i].Name, file.Tensors[i].Name);
            CollectionAssert.AreEqual(tensors[i].Shape, file.Tensors[i].Shape);
            // Bit-exact, so negative zero and subnormals survive.
            CollectionAssert.AreEqual(tensors[i].Data.Select(BitConverter.SingleToInt32Bits).ToArray(),
                                      file.Tensors[i].Data.Select(BitConverter.SingleToInt32Bits).ToArray(), tensors[i].Name);
        }
        CollectionAssert.AreEquivalent(metadata.ToArray(), file.Metadata.ToArray());
        Assert.AreEqual(MathF.PI, file["scalar"].Data[0]);
        Assert.ThrowsExactly<KeyNotFoundException>(() => file["missing"]);
    }

    [TestMethod]
    public void WritesTheDocumentedLayout()
    {
        using var dir = new TempDirectory();
        string path = dir.File("layout.safetensors");
        SafeTensors.Write(path, [new("a", [2], [1f, 2f]), new("b", [1, 1], [-1f])], new Dictionary<string, string> { ["k"] = "v" });
        byte[] bytes = File.ReadAllBytes(path);

        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0ul, headerSize % 8, "the header is padded to a multiple of 8 bytes");
        Assert.AreEqual(8 + (long)headerSize + 12, bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerSize);
        Assert.AreEqual(header.TrimEnd(' '), header.TrimEnd(' ').Trim(), "padding is trailing spaces only");

        using var json = JsonDocument.Parse(header);
        Assert.AreEqual("v", json.RootElement.GetProperty("__metadata__").GetProperty("k").GetString());
        JsonElement b = json.RootElement.GetProperty("b");
        Assert.AreEqual("F32", b.GetProperty("dtype").GetString());
        CollectionAssert.AreEqual(new[] { 1, 1 }, b.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        CollectionAssert.AreEqual(new[] { 8, 12 }, b.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        int data = 8 + (int)headerSize;
        Assert.AreEqual(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(data + 4)));
        Assert.AreEqual(-1f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(data + 8)));
    }

    [TestMethod]
    public void NoMetadataReadsAsEmptyAndOverwritesAtomically()
    {
        using var dir = new TempDirectory();
        string path = dir.File("m.safetensors");
        SafeTensors.Write(path, [new("x", [1], [1f])], new Dictionary<string, string> { ["old"] = "1" });
        SafeTensors.Write(path, [new("y", [2], [2f, 3f])]);
        SafeTensorFile file = SafeTensors.Read(path);
        Assert.AreEqual(0, file.Metadata.Count);
        Assert.AreEqual("y", file.Tensors.Single().Name);
        Assert.AreEqual(1, Directory.GetFiles(dir.Path).Length, "no temporary file is left behind");
        Assert.IsFalse(File.ReadAllText(path).Contains("__metadata__"));
    }

    [TestMethod]
    public void WriteRejectsInconsistentTensors()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensors.Write(path, [new("a", [2, 2], [1f, 2f, 3f])]));
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensors.Write(path, [new("a", [-1], [])]));
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensors.Write(path, [new("a", [1], [1f]), new("a", [1], [2f])]));
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensors.Write(path, [new("", [1], [1f])]));
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensors.Write(path, [new("__metadata__", [1], [1f])]));
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensors.Write(path, [new("huge", [65536, 65536], [1f])]));
        Assert.IsFalse(File.Exists(path));
    }

    [TestMethod]
    [DataRow("""{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4, "tensor 'a' of dtype 'F16'; only F32 is supported")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", 8, "not valid JSON")]
    [DataRow("""[1, 2]""", 0, "is an array, not an object")]
    [DataRow("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""", 8, "beyond the 8 data bytes")]
    [DataRow("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 12, "(8 bytes) but shape [3] of F32 needs 12 bytes")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "end before they begin")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12,
             "overlapping tensors: 'a' [0, 8) and 'b' [4, 12)")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "names 'a' twice")]
    [DataRow("""{"__metadata__":{"epochs":10},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "metadata 'epochs' that is a number, not a string")]
    [DataRow("""{"__metadata__":["x"]}""", 0, "'__metadata__' that is an array")]
    [DataRow("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "gives tensor 'a' no dtype string")]
    [DataRow("""{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "gives tensor 'a' no 'shape' array")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 4, "a 'data_offsets' of 1 numbers; it needs 2")]
    [DataRow("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "a 'shape' with -1, not a non-negative integer")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4, "a 'shape' with 1.5")]
    [DataRow("""{"a":{"dtype":"F32","shape":[4294967296],"data_offsets":[0,4]}}""", 4, "a dimension too large")]
    [DataRow("""{"a":[1]}""", 0, "describes tensor 'a' by an array")]
    public void ReadRejectsMalformedHeaders(string header, int dataBytes, string problem)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        WriteRaw(path, Encoding.UTF8.GetBytes(header), new byte[dataBytes]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, problem);
    }

    [TestMethod]
    public void ReadRejectsBadHeaderSizes()
    {
        using var dir = new TempDirectory();
        string path = dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 0, 0]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "3 bytes long, too short");

        byte[] bytes = new byte[8 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        e = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(path));
        StringAssert.Contains(e.Message, "header of 1000 bytes, beyond the file: only 16 bytes follow");

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        File.WriteAllBytes(path, bytes);
        e = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(path));
        StringAssert.Contains(e.Message, $"header of {ulong.MaxValue} bytes, beyond the file");
    }

    [TestMethod]
    public void ReadsUnpaddedHeadersInAnyKeyOrder()
    {
        // Other writers put the metadata last, leave the header unpadded and list tensors out of data order.
        using var dir = new TempDirectory();
        string path = dir.File("foreign.safetensors");
        string header = """{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"format":"pt"}}""";
        byte[] data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2.5f);
        WriteRaw(path, Encoding.UTF8.GetBytes(header), data);
        SafeTensorFile file = SafeTensors.Read(path);
        CollectionAssert.AreEqual(new[] { "a", "b" }, file.Tensors.Select(t => t.Name).ToArray());
        Assert.AreEqual(1.5f, file["a"].Data[0]);
        Assert.AreEqual(-2.5f, file["b"].Data[0]);
        Assert.AreEqual("pt", file.Metadata["format"]);
    }

    [TestMethod]
    public void MissingFileThrowsFileNotFound()
    {
        using var dir = new TempDirectory();
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => SafeTensors.Read(dir.File("none.safetensors")));
        StringAssert.Contains(e.Message, dir.File("none.safetensors"));
    }

    private static void WriteRaw(string path, byte[] header, byte[] data)
    {
        using var stream = File.Create(path);
        Span<byte> size = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
        stream.Write(size);
        stream.Write(header);
        stream.Write(data);
    }
}
