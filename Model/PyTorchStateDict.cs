
namespace IlgpuVae.Model;

/// <summary>
/// The VAE of the PyTorch examples (examples/vae/main.py) saved as a plain state dict
/// (safetensors.torch.save_file(model.state_dict(), path)): fc1, fc21, fc22, fc3 and fc4, float32, no
/// metadata of ours. Its sizes come from the tensor shapes, the rest from that script: ReLU hidden
/// layers, a Bernoulli likelihood, beta 1, and square images when the input is a square number.
/// </summary>
public static class PyTorchStateDict
{
    private static readonly string[] Names =
        ["fc1.weight", "fc1.bias", "fc21.weight", "fc21.bias", "fc22.weight", "fc22.bias", "fc3.weight", "fc3.bias", "fc4.weight", "fc4.bias"];

    /// <summary>
    /// The configuration of a header holding the examples' tensors, or null when it does not hold them
    /// all (it is then no PyTorch examples VAE). Shapes that do not fit together are a FormatException
    /// naming the tensor.
    /// </summary>
    public static VaeConfig? Infer(SafeTensorHeader header)
    {
        var shapes = header.Tensors.ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        if (!Names.All(shapes.ContainsKey)) return null;

        int[] fc1 = Matrix(shapes, "fc1.weight"), fc21 = Matrix(shapes, "fc21.weight");
        int hidden = fc1[0], input = fc1[1], latent = fc21[0];
        Expect(shapes, "fc1.bias", [hidden]);
        Expect(shapes, "fc21.weight", [latent, hidden]);
        Expect(shapes, "fc21.bias", [latent]);
        Expect(shapes, "fc22.weight", [latent, hidden]);
        Expect(shapes, "fc22.bias", [latent]);
        Expect(shapes, "fc3.weight", [hidden, latent]);
        Expect(shapes, "fc3.bias", [hidden]);
        Expect(shapes, "fc4.weight", [input, hidden]);
        Expect(shapes, "fc4.bias", [input]);

        int side = (int)Math.Round(Math.Sqrt(input));
        var config = new VaeConfig
        {
            Input = input, Hidden = [hidden], Latent = latent,
            ImageHeight = side * side == input ? side : 1, ImageWidth = side * side == input ? side : input,
        };
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"the PyTorch state dict describes an invalid model: {e.Message}", e); }
    }

    private static int[] Matrix(Dictionary<string, int[]> shapes, string name)
    {
        var shape = shapes[name];
        if (shape.Length != 2 || shape[0] <= 0 || shape[1] <= 0)
            throw new FormatException($"PyTorch state dict: '{name}' has shape [{string.Join(", ", shape)}]; a linear layer's weight is [out, in]");
        return shape;
    }

    private static void Expect(Dictionary<string, int[]> shapes, string name, int[] expected)
    {
        if (!shapes[name].SequenceEqual(expected))
            throw new FormatException($"PyTorch state dict: '{name}' has shape [{string.Join(", ", shapes[name])}]; " +
                $"fc1.weight and fc21.weight make it [{string.Join(", ", expected)}]");
    }
}
