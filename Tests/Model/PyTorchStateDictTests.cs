using System.Text.Json;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Tests.Formats;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// A plain state dict of the PyTorch examples VAE, saved by PyTorch without any metadata of ours, loads
/// as a model and computes what PyTorch computes: the sizes are inferred from the tensor shapes.
/// </summary>
[TestClass]
public sealed class PyTorchStateDictTests
{
    // The examples' model (examples/vae/main.py) at other sizes, its state dict written as safetensors
    // (the format by hand: struct + json, as safetensors.torch.save_file lays it out), and its
    // encoder statistics and decoder logits for two fixed inputs, printed as JSON.
    private const string Script = """
        import json, struct, sys, torch
        from torch import nn
        import torch.nn.functional as F
        torch.manual_seed(3)
        class VAE(nn.Module):
            def __init__(self, d, h, l):
                super().__init__()
                self.fc1 = nn.Linear(d, h); self.fc21 = nn.Linear(h, l); self.fc22 = nn.Linear(h, l)
                self.fc3 = nn.Linear(l, h); self.fc4 = nn.Linear(h, d)
            def encode(self, x):
                h1 = F.relu(self.fc1(x)); return self.fc21(h1), self.fc22(h1)
            def decode(self, z):
                return self.fc4(F.relu(self.fc3(z)))
        model = VAE(16, 12, 3)
        x = torch.rand(2, 16)
        z = torch.randn(2, 3)
        with torch.no_grad():
            mu, logvar = model.encode(x)
            logits = model.decode(z)
        header, blobs, offset = {}, [], 0
        for name, t in model.state_dict().items():
            raw = t.contiguous().numpy().astype("<f4").tobytes()
            header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
            blobs.append(raw); offset += len(raw)
        text = json.dumps(header).encode("utf-8")
        with open(sys.argv[1], "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        print(json.dumps({"x": x.flatten().tolist(), "z": z.flatten().tolist(), "mu": mu.flatten().tolist(),
                          "logvar": logvar.flatten().tolist(), "logits": logits.flatten().tolist()}))
        """;

    [TestMethod]
    public void AStateDictSavedByPyTorchLoadsAndComputesWhatPyTorchComputes()
    {
        string python = SafeTensorsPyTorchTests.PythonWithTorch();
        using var dir = new TempDirectory();
        string path = dir.File("examples_vae.safetensors");
        var (exitCode, output) = SafeTensorsPyTorchTests.Run(python, Script, path);
        Assert.AreEqual(0, exitCode, output);
        using var json = JsonDocument.Parse(output);
        float[] Values(string name) => json.RootElement.GetProperty(name).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

        var model = VaeModelFile.Load(path);
        Assert.AreEqual(ModelKind.Mlp, model.Config.Kind);
        Assert.AreEqual(16, model.Config.Input);
        CollectionAssert.AreEqual(new[] { 12 }, model.Config.Hidden.ToArray());
        Assert.AreEqual(3, model.Config.Latent);
        Assert.AreEqual((4, 4), (model.Config.ImageHeight, model.Config.ImageWidth), "16 inputs are a 4x4 image");

        using var acc = new CpuAccelerator();
        using var network = new VaeNetwork(acc, model.Config, 2, model.Parameters);
        using var x = acc.Upload<float>(Values("x"));
        float[] stats = acc.Download(network.EncodeStats(x.View, 2));
        float[] mu = Values("mu"), logvar = Values("logvar");
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                Assert.AreEqual(mu[i * 3 + j], stats[i * 6 + j], 1e-5f, $"mu[{i},{j}]");
                Assert.AreEqual(logvar[i * 3 + j], stats[i * 6 + 3 + j], 1e-5f, $"logvar[{i},{j}]");
            }
        using var z = acc.Upload<float>(Values("z"));
        float[] logits = acc.Download(network.DecodeLogits(z.View, 2)), expected = Values("logits");
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], logits[i], 1e-5f, $"logits[{i}]");
    }

    [TestMethod]
    public void ShapesThatDoNotFitTogetherAreRefusedNamingTheTensor()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        SafeTensor T(string name, params int[] shape) => new(name, shape, new float[shape.Aggregate(1, (a, b) => a * b)]);
        SafeTensors.Write(path,
        [
            T("fc1.weight", 12, 16), T("fc1.bias", 12), T("fc21.weight", 3, 12), T("fc21.bias", 3), T("fc22.weight", 3, 12), T("fc22.bias", 3),
            T("fc3.weight", 12, 4), T("fc3.bias", 12), T("fc4.weight", 16, 12), T("fc4.bias", 16),
        ], new Dictionary<string, string>());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => VaeModelFile.Load(path));
        StringAssert.Contains(e.Message, "fc3.weight");
        StringAssert.Contains(e.Message, "[12, 4]");
        StringAssert.Contains(e.Message, path);
    }

    [TestMethod]
    public void AFileWithoutTheExamplesTensorsOrOurMetadataIsStillRefused()
    {
        using var dir = new TempDirectory();
        string path = dir.File("other.safetensors");
        SafeTensors.Write(path, [new SafeTensor("w", [2, 2], new float[4])], new Dictionary<string, string>());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => VaeModelFile.Load(path));
        StringAssert.Contains(e.Message, "vae.input");
    }
}
