using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>The model kinds in layouts and files: the kind is recorded, and files that predate kinds load as the MLP.</summary>
[TestClass]
public sealed class ModelKindTests
{
    [TestMethod]
    public void AConditionalModelHasTheLabelColumnsInItsFirstEncoderAndDecoderLayers()
    {
        var layout = new ParameterLayout(new VaeConfig { Kind = ModelKind.Conditional, Classes = 10 });
        CollectionAssert.AreEqual(new[] { 400, 794 }, layout["fc1.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 400, 30 }, layout["fc3.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 20, 400 }, layout["fc21.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 784, 400 }, layout["fc4.weight"].Shape);
        Assert.AreEqual(652_824L + 400 * 10 * 2, layout.ParameterCount);
        Assert.AreEqual("784+10-400-20+10-400-784", layout.Config.Describe());
        Assert.AreEqual((long)layout.Length, ParameterLayout.FlatLength(layout.Config));
    }

    [TestMethod]
    public void TheKindIsValidatedWithItsClasses()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new VaeConfig { Kind = ModelKind.Conditional }.Validate()).Message, "2..256 classes");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new VaeConfig { Classes = 3 }.Validate()).Message, "only a conditional model");
    }

    [TestMethod]
    [DataRow(ModelKind.Mlp, 0)]
    [DataRow(ModelKind.Conditional, 7)]
    public void TheKindIsRecordedInTheFileAndReadBack(ModelKind kind, int classes)
    {
        var config = new VaeConfig { Kind = kind, Classes = classes, Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = [5], Latent = 2 };
        using var dir = new IlgpuVae.Tests.Formats.TempDirectory();
        string path = dir.File("m.safetensors");
        float[] parameters = ParameterInitializer.Create(new ParameterLayout(config), 4);
        VaeModelFile.Save(path, config, parameters);
        var header = SafeTensors.Read(path).Metadata;
        Assert.AreEqual(ModelKinds.Of(kind).Name, header["vae.kind"]);
        var model = VaeModelFile.Load(path);
        Assert.AreEqual(config, model.Config);
        CollectionAssert.AreEqual(parameters, model.Parameters);
    }

    [TestMethod]
    public void AFileWrittenBeforeKindsLoadsAsTheMlp()
    {
        var config = new VaeConfig { Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = [5], Latent = 2 };
        var layout = new ParameterLayout(config);
        float[] parameters = ParameterInitializer.Create(layout, 4);
        // What the earlier version wrote: the same tensors, the configuration without vae.kind.
        var metadata = config.ToMetadata().Where(p => p.Key != "vae.kind").ToDictionary(p => p.Key, p => p.Value);
        metadata["format"] = "ilgpu-vae";
        using var dir = new IlgpuVae.Tests.Formats.TempDirectory();
        string path = dir.File("old.safetensors");
        SafeTensors.Write(path, layout.Tensors.Select(t => new SafeTensor(t.Name, t.Shape, parameters.AsSpan(t.Offset, t.Length).ToArray())).ToList(), metadata);
        var model = VaeModelFile.Load(path);
        Assert.AreEqual(ModelKind.Mlp, model.Config.Kind);
        Assert.AreEqual(config, model.Config);
    }

    [TestMethod]
    public void AnUnknownKindIsRefusedNamingTheKinds()
    {
        var config = new VaeConfig { Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = [5], Latent = 2 };
        var metadata = config.ToMetadata().ToDictionary(p => p.Key, p => p.Value);
        metadata["vae.kind"] = "ladder";
        var e = Assert.ThrowsExactly<FormatException>(() => VaeConfig.FromMetadata(metadata));
        StringAssert.Contains(e.Message, "ladder");
        StringAssert.Contains(e.Message, "conditional");
    }
}
