using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using IlgpuVae.Model.IO;
using IlgpuVae.Tests.Formats.Fuzzing;
using IlgpuVae.Tests.Host;

namespace IlgpuVae.Tests.Formats;

/// <summary>
/// The .npy reader and writer: round trips of every type and of odd shapes, the header laid out as
/// np.save lays it out, the headers numpy and hand-written files use, every malformed file refused with
/// the file and the problem named, and files exchanged with numpy itself.
/// </summary>
[TestClass]
public sealed class NpyFileTests
{
    private static readonly float[] Floats = [0f, -0f, 1f, -1.5f, float.Epsilon, 1e-40f, float.MaxValue, float.MinValue, float.NaN,
        float.PositiveInfinity, float.NegativeInfinity, MathF.PI, 1f / 3f, 123456.789f, -2.5e-7f, 42f];

    [TestMethod]
    public void EveryTypeAndShapeComesBackBitForBit()
    {
        using var dir = new TempDirectory();
        Check<float>(dir, Floats, [4, 4], NpyType.Float32);
        Check<float>(dir, Floats, [2, 2, 2, 2], NpyType.Float32);
        Check<float>(dir, Floats, [16], NpyType.Float32);
        Check<float>(dir, [7.5f], [], NpyType.Float32);
        Check<float>(dir, [], [0, 5], NpyType.Float32);
        Check<float>(dir, [], [3, 0], NpyType.Float32);
        Check<byte>(dir, [.. Enumerable.Range(0, 256).Select(i => (byte)i)], [256], NpyType.UInt8);
        Check<int>(dir, [0, -1, int.MaxValue, int.MinValue, 7, 9], [3, 2], NpyType.Int32);
        Check<long>(dir, [0, -1, long.MaxValue, long.MinValue], [4, 1], NpyType.Int64);
    }

    private static void Check<T>(TempDirectory dir, T[] values, int[] shape, NpyType type) where T : unmanaged
    {
        foreach (int major in new[] { 1, 2 })
        {
            string path = dir.File($"a-{type}-{shape.Length}-{major}.npy");
            NpyFile.Write<T>(path, values, shape, major);
            var array = NpyFile.Read(path);
            string what = $"{type} {NpyFile.FormatShape(shape)} v{major}";
            Assert.AreEqual(type, array.Header.Type, what);
            Assert.AreEqual((major, 0), array.Header.Version, what);
            CollectionAssert.AreEqual(shape, array.Shape, what);
            CollectionAssert.AreEqual(Bytes(values), Bytes((T[])array.Data), what);
            Assert.AreEqual(0L, new FileInfo(path).Length - values.Length * System.Runtime.InteropServices.Marshal.SizeOf<T>() & 63, $"{what}: data aligned to 64");
        }
    }

    private static byte[] Bytes<T>(T[] values) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    [TestMethod]
    public void TheHeaderIsLaidOutAsNpSaveLaysItOut()
    {
        byte[] v1 = NpyFile.ToBytes<float>(new float[6], [2, 3]);
        CollectionAssert.AreEqual(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, v1[..8]);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(v1.AsSpan(8));
        Assert.AreEqual(0, (10 + length) % 64);
        string header = Encoding.ASCII.GetString(v1, 10, length);
        Assert.AreEqual("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", header.TrimEnd(' ', '\n'));
        Assert.IsTrue(header.EndsWith(" \n", StringComparison.Ordinal));
        Assert.AreEqual(10 + length + 24, v1.Length);

        byte[] v2 = NpyFile.ToBytes<byte>([1, 2, 3], [3], major: 2);
        Assert.AreEqual(2, v2[6]);
        int length2 = (int)BinaryPrimitives.ReadUInt32LittleEndian(v2.AsSpan(8));
        Assert.AreEqual(0, (12 + length2) % 64);
        StringAssert.StartsWith(Encoding.ASCII.GetString(v2, 12, length2), "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }");
        StringAssert.StartsWith(Encoding.ASCII.GetString(NpyFile.ToBytes<long>([5], []), 10, 60), "{'descr': '<i8', 'fortran_order': False, 'shape': (), }");
    }

    [TestMethod]
    public void WritingChecksTheShapeAndLeavesTheOldFileOnFailure()
    {
        using var dir = new TempDirectory();
        string path = dir.File("keep.npy");
        NpyFile.Write<float>(path, new float[] { 1, 2 }, [2]);
        byte[] before = File.ReadAllBytes(path);
        Assert.ThrowsExactly<ArgumentException>(() => NpyFile.Write<float>(path, new float[] { 1, 2, 3 }, [2, 2]));
        Assert.ThrowsExactly<ArgumentException>(() => NpyFile.Write<double>(path, new double[] { 1 }, [1]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NpyFile.Write<float>(path, new float[] { 1 }, [1], major: 3));
        CollectionAssert.AreEqual(before, File.ReadAllBytes(path));
        Assert.HasCount(1, Directory.GetFileSystemEntries(dir.Path), "no temporary file left");
    }

    [TestMethod]
    [DataRow("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 2)}", DisplayName = "double quotes, no trailing comma")]
    [DataRow("{'shape':(2,2),'fortran_order':False,'descr':'<f4'}", DisplayName = "keys in another order, no spaces")]
    [DataRow("  {  'descr' : '<f4' ,\n 'fortran_order' : False ,\t'shape' : ( 2 , 2 , ) , }  \r\n", DisplayName = "spaces, tabs and newlines")]
    public void HeadersAsPythonWritesThemAreRead(string dict)
    {
        foreach (int major in new[] { 1, 2, 3 })
        {
            var array = NpyFile.Read(new MemoryStream(Build(dict, [1f, 2f, 3f, 4f], major, pad: false)), "hand.npy");
            CollectionAssert.AreEqual(new[] { 2, 2 }, array.Shape);
            CollectionAssert.AreEqual(new[] { 1f, 2f, 3f, 4f }, array.Float32Values());
        }
    }

    [TestMethod]
    public void FortranOrderIsReadWhereItIsCOrderAndRefusedElsewhere()
    {
        var one = NpyFile.Read(new MemoryStream(Build("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 1), }", [1f, 2f, 3f])), "f.npy");
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, one.Float32Values());
        var e = Assert.ThrowsExactly<InvalidDataException>(() =>
            NpyFile.Read(new MemoryStream(Build("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", new float[6])), "f.npy"));
        StringAssert.Contains(e.Message, "'f.npy'");
        StringAssert.Contains(e.Message, "Fortran (column-major) order");
    }

    public static IEnumerable<object[]> Malformed()
    {
        const string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        byte[] valid = Build(good, [1f, 2f]);
        yield return ["bad magic", Encoding.ASCII.GetBytes("hello, world, this is text"), "does not start with the .npy magic"];
        yield return ["empty", Array.Empty<byte>(), "too short to hold the 10-byte preamble"];
        yield return ["magic only", valid[..6], "too short to hold the 10-byte preamble"];
        yield return ["no header length", valid[..9], "too short to hold the 10-byte preamble"];
        yield return ["version 4.0", With(valid, 6, 4), "version 4.0"];
        yield return ["version 1.1", With(valid, 7, 1), "version 1.1"];
        yield return ["header beyond the file", WithLength(valid, 0xFFFF), "beyond the file"];
        yield return ["truncated data", valid[..^1], "is truncated"];
        yield return ["trailing bytes", valid.Concat(new byte[4]).ToArray(), "is too long"];
        yield return ["a list, not a dict", Build("['descr', '<f4']", []), "expects the header to start with '{'"];
        yield return ["no shape", Build("{'descr': '<f4', 'fortran_order': False, }", []), "without 'shape'"];
        yield return ["no descr or order", Build("{'shape': (0,), }", []), "without 'descr' and 'fortran_order'"];
        yield return ["a key twice", Build("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [1f, 2f]), "names 'descr' twice"];
        yield return ["an unknown key", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", [1f, 2f]), "has the key 'extra'"];
        yield return ["float64", Build("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", [1f, 2f]), "float64"];
        yield return ["big-endian", Build("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", [1f, 2f]), "big-endian"];
        yield return ["objects", Build("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", [1f, 2f]), "Python objects"];
        yield return ["float16", Build("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", [1f, 2f]), "dtype '<f2'"];
        yield return ["structured", Build("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", [1f, 2f]), "structured dtype"];
        yield return ["negative dimension", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", [1f, 2f]), "negative dimension"];
        yield return ["(N) without a comma", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", [1f, 2f]), "a 1-d shape is (N,)"];
        yield return ["a list shape", Build("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", [1f, 2f]), "needs a tuple of integers"];
        yield return ["order not a boolean", Build("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", [1f, 2f]), "needs True or False"];
        yield return ["order a longer word", Build("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }", [1f, 2f]), "needs True or False"];
        yield return ["an unclosed string", Build("{'descr': '<f4, 'fortran_order': False}", []), "where ',' or '}' should follow"];
        yield return ["a string never closed", Build("{'descr", [], pad: false), "never closed"];
        yield return ["text after the dict", Build(good + " x", [1f, 2f]), "after the header dict's closing '}'"];
        yield return ["a non-ASCII byte", Build("{'descr': '<f4\u00e9', 'fortran_order': False, 'shape': (2,), }", [1f, 2f]), "outside printable ASCII"];
        yield return ["a dimension too large", Build("{'descr': '|u1', 'fortran_order': False, 'shape': (2147483648,), }", []), "a dimension too large"];
        yield return ["too many elements", Build("{'descr': '|u1', 'fortran_order': False, 'shape': (65536, 65536), }", []), "more elements than one array holds"];
        yield return ["a shape that overflows a long", Build("{'descr': '<i8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }", []), "more elements than one array holds"];
        yield return ["65 dimensions", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (" + string.Concat(Enumerable.Repeat("1, ", 65)) + "), }", [1f]), "dimensions"];
        yield return ["the header's end in the shape", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", []), "the header's end"];
    }

    public static string MalformedName(System.Reflection.MethodInfo method, object[] data) => $"{method.Name}: {data[0]}";

    [TestMethod]
    [DynamicData(nameof(Malformed), DynamicDataDisplayName = nameof(MalformedName))]
    public void AMalformedFileIsRefusedWithItsNameAndTheProblem(string what, byte[] bytes, string expected)
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => NpyFile.Read(new MemoryStream(bytes), "bad.npy"), what);
        StringAssert.StartsWith(e.Message, ".npy file 'bad.npy' ", what);
        StringAssert.Contains(e.Message, expected, what);
    }

    [TestMethod]
    public void AHeaderClaimingHugeSizesAllocatesLittle()
    {
        byte[] bigHeader = Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [1f, 2f], major: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(bigHeader.AsSpan(8), uint.MaxValue);
        byte[] bigShape = Build("{'descr': '<i8', 'fortran_order': False, 'shape': (50000, 40000), }", [1f, 2f]);
        foreach (byte[] bytes in new[] { bigHeader, bigShape })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.ThrowsExactly<InvalidDataException>(() => NpyFile.Read(new MemoryStream(bytes), "big.npy"));
            Assert.IsLessThan(1L << 20, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [TestMethod]
    public void OnlyRegularFilesAreOpenedAndAMissingOneIsNamed()
    {
        using var dir = new TempDirectory();
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => NpyFile.Read(dir.File("none.npy")));
        StringAssert.Contains(missing.Message, "none.npy' does not exist");
        var directory = Assert.ThrowsExactly<InvalidDataException>(() => NpyFile.Read(dir.Path));
        StringAssert.Contains(directory.Message, "is a directory");
        if (!OperatingSystem.IsLinux()) return;
        var device = Assert.ThrowsExactly<InvalidDataException>(() => NpyFile.Read("/dev/zero"));
        StringAssert.Contains(device.Message, "character device");
        ProgramTools.MakeFifo(dir.File("fifo.npy"));
        var read = Task.Run(() => Assert.ThrowsExactly<InvalidDataException>(() => NpyFile.Read(dir.File("fifo.npy"))));
        Assert.IsTrue(read.Wait(TimeSpan.FromSeconds(10)), "a FIFO blocked the reader");
        StringAssert.Contains(read.Result.Message, "FIFO");
    }

    [TestMethod]
    public void LabelsAndFloatsAreTakenOnlyAsWhatTheyAre()
    {
        var labels = NpyFile.Read(new MemoryStream(NpyFile.ToBytes<byte>([3, 1, 4], [3])), "labels.npy");
        CollectionAssert.AreEqual(new[] { 3, 1, 4 }, labels.IntegerValues());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => labels.Float32Values());
        StringAssert.Contains(e.Message, "uint8 ('|u1')");
        StringAssert.Contains(e.Message, "expected float32");
        var wide = NpyFile.Read(new MemoryStream(NpyFile.ToBytes<long>([1L << 40], [1])), "wide.npy");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => wide.IntegerValues()).Message, "outside the range");
        var floats = NpyFile.Read(new MemoryStream(NpyFile.ToBytes<float>([1f], [1])), "z.npy");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => floats.IntegerValues()).Message, "expected integers");
    }

    // ------------------------------------------------------------------ numpy

    private const string NumpyWrites = """
        import sys, numpy as np
        from numpy.lib import format
        d = sys.argv[1]
        a = (np.arange(12, dtype=np.float32).reshape(3, 4) / 7).astype(np.float32)
        a[0, 0] = -0.0; a[0, 1] = 1e-40; a[0, 2] = np.inf
        for v in [(1, 0), (2, 0)]:
            with open(f"{d}/f32-{v[0]}.npy", "wb") as f: format.write_array(f, a, version=v)
            with open(f"{d}/u8-{v[0]}.npy", "wb") as f: format.write_array(f, np.arange(250, 256, dtype=np.uint8), version=v)
        np.save(f"{d}/i64.npy", np.array([[-1, 2**40], [3, 4]], dtype=np.int64))
        np.save(f"{d}/i32.npy", np.array([7, -8], dtype=np.int32))
        np.save(f"{d}/scalar.npy", np.float32(2.5))
        np.save(f"{d}/empty.npy", np.zeros((0, 20), dtype=np.float32))
        np.save(f"{d}/sliced.npy", np.arange(20, dtype=np.float32).reshape(4, 5)[:, 1:3])
        np.save(f"{d}/fortran-1d.npy", np.asfortranarray(np.arange(3, dtype=np.float32).reshape(3, 1)))
        print(np.__version__)
        """;

    private const string NumpyReads = """
        import sys, json, numpy as np
        out = {}
        for path in sys.argv[1:]:
            a = np.load(path, allow_pickle=False)
            out[path.rsplit("/", 1)[1]] = {"dtype": a.dtype.str, "shape": list(a.shape), "fortran": bool(np.isfortran(a)),
                "values": [float(v) if a.dtype.kind == "f" else int(v) for v in a.ravel()],
                "bits": a.view(np.uint32).ravel().tolist() if a.dtype == np.float32 else None}
        print(json.dumps(out))
        """;

    [TestMethod]
    public void WeReadWhatNumpyWrites()
    {
        string python = PythonWithNumpy();
        using var dir = new TempDirectory();
        var (exitCode, output) = SafeTensorsPyTorchTests.Run(python, NumpyWrites, dir.Path);
        Assert.AreEqual(0, exitCode, output);

        float[] expected = [.. Enumerable.Range(0, 12).Select(i => i / 7f)];
        expected[0] = -0f;
        expected[1] = 1e-40f;
        expected[2] = float.PositiveInfinity;
        foreach (int major in new[] { 1, 2 })
        {
            var f32 = NpyFile.Read(dir.File($"f32-{major}.npy"));
            Assert.AreEqual((major, 0), f32.Header.Version);
            CollectionAssert.AreEqual(new[] { 3, 4 }, f32.Shape);
            CollectionAssert.AreEqual(expected.Select(BitConverter.SingleToInt32Bits).ToArray(), f32.Float32Values().Select(BitConverter.SingleToInt32Bits).ToArray());
            var u8 = NpyFile.Read(dir.File($"u8-{major}.npy"));
            Assert.AreEqual(NpyType.UInt8, u8.Header.Type);
            CollectionAssert.AreEqual(new byte[] { 250, 251, 252, 253, 254, 255 }, (byte[])u8.Data);
        }
        var i64 = NpyFile.Read(dir.File("i64.npy"));
        CollectionAssert.AreEqual(new[] { 2, 2 }, i64.Shape);
        CollectionAssert.AreEqual(new long[] { -1, 1L << 40, 3, 4 }, (long[])i64.Data);
        CollectionAssert.AreEqual(new[] { 7, -8 }, NpyFile.Read(dir.File("i32.npy")).IntegerValues());
        var scalar = NpyFile.Read(dir.File("scalar.npy"));
        Assert.IsEmpty(scalar.Shape);
        CollectionAssert.AreEqual(new[] { 2.5f }, scalar.Float32Values());
        var empty = NpyFile.Read(dir.File("empty.npy"));
        CollectionAssert.AreEqual(new[] { 0, 20 }, empty.Shape);
        Assert.IsEmpty(empty.Float32Values());
        // np.save writes a non-contiguous view in C order.
        CollectionAssert.AreEqual(new[] { 1f, 2f, 6f, 7f, 11f, 12f, 16f, 17f }, NpyFile.Read(dir.File("sliced.npy")).Float32Values());
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f }, NpyFile.Read(dir.File("fortran-1d.npy")).Float32Values());
    }

    [TestMethod]
    public void NumpyReadsWhatWeWrite()
    {
        string python = PythonWithNumpy();
        using var dir = new TempDirectory();
        float[] latents = [.. Floats.Where(float.IsFinite).Take(12)];
        NpyFile.Write<float>(dir.File("z1.npy"), latents, [6, 2]);
        NpyFile.Write<float>(dir.File("z2.npy"), latents, [2, 3, 2], major: 2);
        NpyFile.Write<byte>(dir.File("labels.npy"), new byte[] { 9, 0, 255 }, [3]);
        NpyFile.Write<int>(dir.File("i32.npy"), new[] { int.MinValue, 5 }, [2]);
        NpyFile.Write<long>(dir.File("i64.npy"), new[] { long.MaxValue }, [1, 1]);
        NpyFile.Write<float>(dir.File("scalar.npy"), new[] { -3.25f }, []);
        NpyFile.Write<float>(dir.File("empty.npy"), Array.Empty<float>(), [0, 2]);
        string[] names = ["z1.npy", "z2.npy", "labels.npy", "i32.npy", "i64.npy", "scalar.npy", "empty.npy"];

        var (exitCode, output) = Run(python, NumpyReads, [.. names.Select(dir.File)]);
        Assert.AreEqual(0, exitCode, output);
        using var json = JsonDocument.Parse(output);
        var seen = json.RootElement;
        void Expect(string name, string dtype, int[] shape)
        {
            var file = seen.GetProperty(name);
            Assert.AreEqual(dtype, file.GetProperty("dtype").GetString(), name);
            CollectionAssert.AreEqual(shape, file.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(), name);
            Assert.IsFalse(file.GetProperty("fortran").GetBoolean(), name);
        }
        Expect("z1.npy", "<f4", [6, 2]);
        Expect("z2.npy", "<f4", [2, 3, 2]);
        Expect("labels.npy", "|u1", [3]);
        Expect("i32.npy", "<i4", [2]);
        Expect("i64.npy", "<i8", [1, 1]);
        Expect("scalar.npy", "<f4", []);
        Expect("empty.npy", "<f4", [0, 2]);
        int[] bits = [.. latents.Select(BitConverter.SingleToInt32Bits)];
        foreach (string name in new[] { "z1.npy", "z2.npy" })
            CollectionAssert.AreEqual(bits, seen.GetProperty(name).GetProperty("bits").EnumerateArray().Select(e => unchecked((int)e.GetUInt32())).ToArray(), name);
        CollectionAssert.AreEqual(new long[] { 9, 0, 255 }, Values(seen, "labels.npy"));
        CollectionAssert.AreEqual(new long[] { int.MinValue, 5 }, Values(seen, "i32.npy"));
        CollectionAssert.AreEqual(new[] { long.MaxValue }, Values(seen, "i64.npy"));
        Assert.AreEqual(-3.25, seen.GetProperty("scalar.npy").GetProperty("values")[0].GetDouble());
    }

    private static long[] Values(JsonElement seen, string name) => [.. seen.GetProperty(name).GetProperty("values").EnumerateArray().Select(e => e.GetInt64())];

    private static readonly Lazy<string?> Python = new(() =>
    {
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                if (Run(candidate, "import numpy", []).ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under this name; try the next.
            }
        }
        return null;
    });

    /// <summary>The first python3 that imports numpy (Debian's python3-numpy, which python3-torch brings).</summary>
    internal static string PythonWithNumpy()
    {
        if (Python.Value is null)
        {
            const string why = "No python3 with numpy found (apt-get install python3-numpy).";
            // CI installs python3-torch, and numpy with it: there a missing numpy is a broken setup, not a skip.
            if (IlgpuVae.Tests.Conformance.KernelConformance.IsCi) Assert.Fail(why);
            Assert.Inconclusive(why);
        }
        return Python.Value;
    }

    internal static (int ExitCode, string Output) Run(string python, string script, string[] arguments)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{python} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            Assert.Fail($"{python} did not finish in 60 s");
        }
        return (process.ExitCode, process.ExitCode == 0 ? stdout : stdout + stderr.Result);
    }

    // ------------------------------------------------------------------ building files by hand, and the fuzzer's view

    /// <summary>A .npy file of the given header dict and float values; padded as numpy pads unless pad is false.</summary>
    internal static byte[] Build(string dict, float[] values, int major = 1, bool pad = true)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        string text = dict;
        if (pad) text += new string(' ', 63 - (8 + lengthBytes + dict.Length) % 64) + "\n";
        byte[] header = Encoding.Latin1.GetBytes(text);
        var bytes = new List<byte>(NpyMagic) { (byte)major, 0 };
        var length = new byte[lengthBytes];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        bytes.AddRange(length);
        bytes.AddRange(header);
        bytes.AddRange(Bytes(values));
        return [.. bytes];
    }

    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static byte[] With(byte[] bytes, int at, byte value)
    {
        byte[] copy = [.. bytes];
        copy[at] = value;
        return copy;
    }

    private static byte[] WithLength(byte[] bytes, ushort length)
    {
        byte[] copy = [.. bytes];
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(8), length);
        return copy;
    }

    /// <summary>The fuzzer's read: what a successful read returns must hold together.</summary>
    internal static void ParseForFuzzing(byte[] bytes)
    {
        var array = NpyFile.Read(new MemoryStream(bytes, writable: false), FuzzTargets.FuzzName);
        long elements = array.Shape.Aggregate(1L, (product, d) => product * d);
        if (array.Shape.Any(d => d < 0) || array.Data.LongLength != elements)
            throw new BrokenInvariantException($"shape {NpyFile.FormatShape(array.Shape)} came with {array.Data.LongLength} values");
        Type expected = array.Header.Type switch
        {
            NpyType.Float32 => typeof(float[]),
            NpyType.UInt8 => typeof(byte[]),
            NpyType.Int32 => typeof(int[]),
            _ => typeof(long[]),
        };
        if (array.Data.GetType() != expected)
            throw new BrokenInvariantException($"a {array.Header.Type} header came with {array.Data.GetType().Name}");
    }

    /// <summary>Valid files of every type and both versions, and the tolerant headers numpy's reader takes too.</summary>
    internal static IReadOnlyList<byte[]> FuzzSeeds() =>
    [
        NpyFile.ToBytes<float>([1f, -2f, 3.5f, 0f, 1e-3f, 7f], [3, 2]),
        NpyFile.ToBytes<float>([1f, 2f], [2], major: 2),
        NpyFile.ToBytes<byte>([0, 9, 255], [3]),
        NpyFile.ToBytes<int>([-1, 2], [1, 2]),
        NpyFile.ToBytes<long>([5], []),
        NpyFile.ToBytes<float>([], [0, 4]),
        Build("{\"shape\": (1, 2, 1), \"descr\": \"<f4\", \"fortran_order\": True}", [1f, 2f], major: 3, pad: false),
    ];
}
