using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>Activation forward and backward; the backward takes the forward output y.</summary>
internal static class CpuActivations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(Activation activation, float x, float slope) => activation switch
    {
        Activation.Relu => x > 0 ? x : 0f,
        Activation.LeakyRelu => x > 0 ? x : slope * x,
        Activation.Tanh => MathF.Tanh(x),
        Activation.Sigmoid => Sigmoid(x),
        _ => x,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(Activation activation, float y, float slope) => activation switch
    {
        Activation.Relu => y > 0 ? 1f : 0f,
        Activation.LeakyRelu => y > 0 ? 1f : slope,
        Activation.Tanh => 1f - y * y,
        Activation.Sigmoid => y * (1f - y),
        _ => 1f,
    };

    /// <summary>Sigmoid without overflow for large |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        if (x >= 0) return 1f / (1f + MathF.Exp(-x));
        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    public static void Forward(Activation activation, ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Apply(activation, x[i], slope);
    }

    public static void Backward(Activation activation, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float slope)
    {
        for (int i = 0; i < y.Length; i++) dx[i] = dy[i] * Derivative(activation, y[i], slope);
    }
}
