namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// The contract's activations and their derivatives (as functions of the forward output y) for the
/// device: the CPU reference's formulas, shared by the element-wise kernels and the GEMM
/// epilogue. The activation travels as an int, its Activation enum value, so one kernel serves all.
/// </summary>
internal static class IlgpuActivationMath
{
    public const int Identity = (int)Activation.Identity, Relu = (int)Activation.Relu,
        LeakyRelu = (int)Activation.LeakyRelu, Tanh = (int)Activation.Tanh, Sigmoid = (int)Activation.Sigmoid;

    /// <summary>Sigmoid without overflow: exp is only ever taken of a non-positive number.</summary>
    public static float StableSigmoid(float x)
    {
        if (x >= 0f) return 1f / (1f + MathF.Exp(-x));
        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    public static float Apply(int activation, float x, float slope)
    {
        if (activation == Relu) return x > 0f ? x : 0f;
        if (activation == LeakyRelu) return x > 0f ? x : slope * x;
        if (activation == Tanh) return MathF.Tanh(x);
        if (activation == Sigmoid) return StableSigmoid(x);
        return x;
    }

    public static float Derivative(int activation, float y, float slope)
    {
        if (activation == Relu) return y > 0f ? 1f : 0f;
        if (activation == LeakyRelu) return y > 0f ? 1f : slope;
        if (activation == Tanh) return 1f - y * y;
        if (activation == Sigmoid) return y * (1f - y);
        return 1f;
    }
}
