using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Formats;

/// <summary>
/// Interoperability with PyTorch: files we write load in torch with the same values, and files built
/// by Python load here. The Python side parses the format itself (struct + json + torch.frombuffer),
/// independently of our reader. Inconclusive where no python3 with torch is installed (a failure in CI, which installs it).
/// </summary>
[TestClass]
public sealed class SafeTensorsPyTorchTests
{
    private const string ReadScript = """
        import json, struct, sys, torch
        path = sys.argv[1]
        with open(path, "rb") as f:
            blob = f.read()
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8:8 + n].decode("utf-8"))
        data = blob[8 + n:]
        out = {"__metadata__": header.pop("__metadata__", {})}
        for name, info in header.items():
            assert info["dtype"] == "F32", info
            begin, end = info["data_offsets"]
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info["shape"]) if end > begin \
                else torch.zeros(info["shape"], dtype=torch.float32)
            out[name] = {"shape": list(t.shape), "values": t.flatten().tolist(), "sum": float(t.double().sum())}
        print(json.dumps(out))
        """;

    private const string WriteScript = """
        import json, struct, sys, torch
        tensors = {
            "w": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7,
            "b": torch.tensor([-0.0, 1e-40, 3.5], dtype=torch.float32),
        }
        header, blobs, offset = {"__metadata__": {"source": "torch " + torch.__version__}}, [], 0
        for name, t in tensors.items():
            raw = t.contiguous().numpy().astype("<f4").tobytes()
            header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
            blobs.append(raw)
            offset += len(raw)
        text = json.dumps(header).encode("utf-8")
        with open(sys.argv[1], "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        """;

    [TestMethod]
    public void TorchReadsWhatWeWrite()
    {
        string python = PythonWithTorch();
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        SafeTensor[] tensors = SafeTensorsTests.SampleTensors();
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["latent"] = "20" });

        var (exitCode, output) = Run(python, ReadScript, path);
        Assert.AreEqual(0, exitCode, output);
        using var json = JsonDocument.Parse(output);
        Assert.AreEqual("20", json.RootElement.GetProperty("__metadata__").GetProperty("latent").GetString());
        foreach (SafeTensor tensor in tensors)
        {
            JsonElement seen = json.RootElement.GetProperty(tensor.Name);
            CollectionAssert.AreEqual(tensor.Shape, seen.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(), tensor.Name);
            // Python prints each float32 widened to double exactly; narrowing back must give the same bits.
            int[] expected = [.. tensor.Data.Select(BitConverter.SingleToInt32Bits)];
            int[] actual = [.. seen.GetProperty("values").EnumerateArray().Select(e => BitConverter.SingleToInt32Bits((float)e.GetDouble()))];
            CollectionAssert.AreEqual(expected, actual, tensor.Name);
            Assert.AreEqual(tensor.Data.Sum(v => (double)v), seen.GetProperty("sum").GetDouble(), 1e-9 * (1 + tensor.Data.Sum(v => Math.Abs((double)v))), tensor.Name);
        }
    }

    [TestMethod]
    public void WeReadWhatTorchWrites()
    {
        string python = PythonWithTorch();
        using var dir = new TempDirectory();
        string path = dir.File("from-torch.safetensors");
        var (exitCode, output) = Run(python, WriteScript, path);
        Assert.AreEqual(0, exitCode, output);

        SafeTensorFile file = SafeTensors.Read(path);
        StringAssert.StartsWith(file.Metadata["source"], "torch ");
        CollectionAssert.AreEqual(new[] { 3, 4 }, file["w"].Shape);
        // torch divides in float32 with IEEE rounding, as C# does.
        CollectionAssert.AreEqual(Enumerable.Range(0, 12).Select(i => i / 7f).ToArray(), file["w"].Data);
        CollectionAssert.AreEqual(new[] { BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(1e-40f), BitConverter.SingleToInt32Bits(3.5f) },
                                  file["b"].Data.Select(BitConverter.SingleToInt32Bits).ToArray());
    }

    // Importing torch takes seconds: look for it once per test run.
    private static readonly Lazy<string?> Python = new(FindPythonWithTorch);

    /// <summary>The first python3 that imports torch (Debian's python3-torch lives under /usr/bin).</summary>
    internal static string PythonWithTorch()
    {
        if (Python.Value is null)
        {
            const string why = "No python3 with torch found (apt-get install python3-torch).";
            // CI installs python3-torch (.ci/install-deps): there a missing torch is a broken setup, not a skip.
            if (IlgpuVae.Tests.Conformance.KernelConformance.IsCi) Assert.Fail(why);
            Assert.Inconclusive(why);
        }
        return Python.Value;
    }

    private static string? FindPythonWithTorch()
    {
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                if (Run(candidate, "import torch", null).ExitCode == 0)
                    return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under this name; try the next.
            }
        }
        return null;
    }

    internal static (int ExitCode, string Output) Run(string python, string script, string? argument)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        if (argument is not null)
            start.ArgumentList.Add(argument);
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
}
