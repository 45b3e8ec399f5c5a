using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

[TestClass]
public sealed class ParameterLayoutTests
{
    [TestMethod]
    public void DefaultLayoutHasThePyTorchExampleTensors()
    {
        var layout = new ParameterLayout(new VaeConfig());
        var expected = new (string Name, int[] Shape)[]
        {
            ("fc1.weight", [400, 784]), ("fc1.bias", [400]),
            ("fc21.weight", [20, 400]), ("fc22.weight", [20, 400]), ("fc21.bias", [20]), ("fc22.bias", [20]),
            ("fc3.weight", [400, 20]), ("fc3.bias", [400]),
            ("fc4.weight", [784, 400]), ("fc4.bias", [784]),
        };
        CollectionAssert.AreEqual(expected.Select(e => e.Name).ToArray(), layout.Tensors.Select(t => t.Name).ToArray());
        foreach (var (name, shape) in expected) CollectionAssert.AreEqual(shape, layout[name].Shape, name);
        // The PyTorch examples VAE has 784*400+400 + 2*(400*20+20) + 20*400+400 + 400*784+784 parameters.
        Assert.AreEqual(652_824L, layout.ParameterCount);
    }

    [TestMethod]
    public void HeadsAreOneContiguousLayerOfTwiceTheLatentWidth()
    {
        var layout = new ParameterLayout(new VaeConfig { Latent = 7, Hidden = [33] });
        Assert.AreEqual(layout["fc21.weight"].Offset + 7 * 33, layout["fc22.weight"].Offset);
        Assert.AreEqual(layout["fc21.bias"].Offset + 7, layout["fc22.bias"].Offset);
        Assert.AreEqual(14, layout.Heads.Out);
        Assert.AreEqual(layout["fc21.weight"].Offset, layout.Heads.WeightOffset);
        Assert.AreEqual(layout["fc21.bias"].Offset, layout.Heads.BiasOffset);
    }

    [TestMethod]
    public void TensorsDoNotOverlapAndStartAligned()
    {
        var layout = new ParameterLayout(new VaeConfig { Hidden = [512, 256], Latent = 16 });
        var owner = new string?[layout.Length];
        foreach (var t in layout.Tensors)
        {
            if (t.Name != "fc22.weight" && t.Name != "fc22.bias") Assert.AreEqual(0, t.Offset % ParameterLayout.Alignment, t.Name);
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                Assert.IsNull(owner[i], $"{t.Name} overlaps {owner[i]} at {i}");
                owner[i] = t.Name;
            }
        }
        // Two hidden layers: nn.Sequential-style names, decoder mirrored.
        CollectionAssert.AreEqual(new[] { 512, 784 }, layout["encoder.0.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 256, 512 }, layout["encoder.1.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 256, 16 }, layout["decoder.0.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 512, 256 }, layout["decoder.1.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 784, 512 }, layout["fc4.weight"].Shape);
    }

    [TestMethod]
    public void InitialisationIsUniformWithinTheFanInBoundAndSeedDetermined()
    {
        var layout = new ParameterLayout(new VaeConfig());
        float[] a = ParameterInitializer.Create(layout, 1), b = ParameterInitializer.Create(layout, 1), c = ParameterInitializer.Create(layout, 2);
        CollectionAssert.AreEqual(a, b);
        Assert.IsTrue(a.Zip(c).Count(p => p.First != p.Second) > layout.ParameterCount * 0.99, "another seed gives other values");
        foreach (var t in layout.Tensors)
        {
            double bound = 1 / Math.Sqrt(t.FanIn);
            var values = a.AsSpan(t.Offset, t.Length).ToArray();
            Assert.IsTrue(values.All(v => Math.Abs(v) <= bound), $"{t.Name} exceeds +-{bound}");
            if (t.Length >= 400)
            {
                // U(-b, b): mean 0, variance b^2 / 3, and it fills the range.
                double mean = values.Average(v => (double)v), variance = values.Average(v => (double)v * v) - mean * mean;
                Assert.AreEqual(0, mean, 4 * bound / Math.Sqrt(3 * t.Length), t.Name);
                Assert.AreEqual(bound * bound / 3, variance, 0.15 * bound * bound / 3, t.Name);
                Assert.IsGreaterThan(0.95 * bound, values.Max(), t.Name);
            }
        }
        // The gaps between aligned tensors stay zero.
        var used = new bool[layout.Length];
        foreach (var t in layout.Tensors) used.AsSpan(t.Offset, t.Length).Fill(true);
        for (int i = 0; i < used.Length; i++) if (!used[i]) Assert.AreEqual(0f, a[i]);
    }

    [TestMethod]
    public void ConfigRoundTripsThroughMetadata()
    {
        var config = new VaeConfig { Hidden = [512, 256], Latent = 8, Likelihood = Likelihood.Gaussian, Beta = 0.25f, Sigma = 0.3f, Activation = Activation.Tanh };
        var back = VaeConfig.FromMetadata(config.ToMetadata());
        Assert.AreEqual(config, back);
        Assert.AreEqual("784-512-256-8-256-512-784", back.Describe());
    }

    [TestMethod]
    public void BadMetadataAndConfigsAreRejectedWithTheField()
    {
        var metadata = new Dictionary<string, string>(new VaeConfig().ToMetadata()) { ["vae.hidden"] = "400,x" };
        var e = Assert.ThrowsExactly<FormatException>(() => VaeConfig.FromMetadata(metadata));
        StringAssert.Contains(e.Message, "400,x");
        metadata.Remove("vae.hidden");
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => VaeConfig.FromMetadata(metadata)).Message, "vae.hidden");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new VaeConfig { Input = 100 }.Validate()).Message, "28x28");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new VaeConfig { Sigma = 0 }.Validate()).Message, "sigma");
    }
}
