using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Host;

namespace IlgpuVae.Tests.Model;

[TestClass]
public sealed class VaeModelFileTests
{
    [TestMethod]
    public void SaveAndLoadRoundTripTheParametersConfigAndMetadata()
    {
        using var temp = new TempDirectory();
        var config = new VaeConfig { Hidden = [48, 24], Latent = 5, Likelihood = Likelihood.Gaussian, Sigma = 0.4f, Beta = 2f };
        float[] parameters = ParameterInitializer.Create(new ParameterLayout(config), 9);
        VaeModelFile.Save(temp["m.safetensors"], config, parameters, new Dictionary<string, string> { ["steps"] = "12" });

        var model = VaeModelFile.Load(temp["m.safetensors"]);
        Assert.AreEqual(config, model.Config);
        CollectionAssert.AreEqual(parameters, model.Parameters);
        Assert.AreEqual("12", model.Metadata["steps"]);
        Assert.AreEqual(VaeModelFile.FormatValue, model.Metadata[VaeModelFile.FormatKey]);

        // The file holds one tensor per named view, in PyTorch's names and shapes.
        var file = SafeTensors.Read(temp["m.safetensors"]);
        CollectionAssert.AreEqual(new[] { 48, 784 }, file["encoder.0.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 5, 24 }, file["fc22.weight"].Shape);
        var layout = new ParameterLayout(config);
        CollectionAssert.AreEqual(parameters.AsSpan(layout["fc22.bias"].Offset, 5).ToArray(), file["fc22.bias"].Data);
    }

    [TestMethod]
    public void ATensorOfTheWrongShapeOrAMissingConfigurationIsNamed()
    {
        using var temp = new TempDirectory();
        var config = new VaeConfig { Hidden = [16], Latent = 3 };
        var layout = new ParameterLayout(config);
        var tensors = layout.Tensors.Select(t => new SafeTensor(t.Name, t.Name == "fc3.weight" ? [3, 16] : t.Shape, new float[t.Length])).ToList();
        SafeTensors.Write(temp["bad.safetensors"], tensors, config.ToMetadata());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => VaeModelFile.Load(temp["bad.safetensors"]));
        StringAssert.Contains(e.Message, "fc3.weight");
        StringAssert.Contains(e.Message, "[16, 3]");

        // Without our metadata the examples' tensor names make it a PyTorch state dict, whose shapes must fit.
        SafeTensors.Write(temp["plain.safetensors"], tensors, null);
        var inferred = Assert.ThrowsExactly<InvalidDataException>(() => VaeModelFile.Load(temp["plain.safetensors"]));
        StringAssert.Contains(inferred.Message, "fc3.weight");
        StringAssert.Contains(inferred.Message, "plain.safetensors");

        // Other tensors without metadata: nothing says what model they are.
        var deep = new ParameterLayout(new VaeConfig { Hidden = [16, 8], Latent = 3 });
        SafeTensors.Write(temp["deep.safetensors"], deep.Tensors.Select(t => new SafeTensor(t.Name, t.Shape, new float[t.Length])).ToList(), null);
        var noConfig = Assert.ThrowsExactly<InvalidDataException>(() => VaeModelFile.Load(temp["deep.safetensors"]));
        StringAssert.Contains(noConfig.Message, "vae.");
        StringAssert.Contains(noConfig.Message, "deep.safetensors");
    }
}
