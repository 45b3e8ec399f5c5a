using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// PyTorch nn.Linear's default initialisation: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
/// Drawn on the host from Philox (key = seed, counter = (element / 4, tensor index, InitStream)), so a
/// seed gives the same model on every machine and backend, whatever the thread count.
/// </summary>
public static class ParameterInitializer
{
    /// <summary>
    /// The Philox stream word of initialisation. The training draws use small stream numbers
    /// (<see cref="RandomStream"/>) with the step as the second word; this one can never meet them.
    /// </summary>
    public const uint InitStream = 0x494E4954; // "INIT"

    /// <summary>The initial flat parameter buffer (gaps between tensors are zero).</summary>
    public static float[] Create(ParameterLayout layout, ulong seed)
    {
        var values = new float[layout.Length];
        for (int t = 0; t < layout.Tensors.Count; t++)
        {
            var tensor = layout.Tensors[t];
            float bound = 1f / MathF.Sqrt(tensor.FanIn);
            var random = new RandomSource(seed, (uint)t, InitStream);
            var span = values.AsSpan(tensor.Offset, tensor.Length);
            for (int e = 0; e < span.Length; e++)
                span[e] = (2f * Philox.UniformAt(e, random) - 1f) * bound;
        }
        return values;
    }
}
