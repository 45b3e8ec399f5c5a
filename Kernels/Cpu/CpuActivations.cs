using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Activation forward and backward; the backward takes the forward output y. The piecewise-linear
/// ones and every backward run as Vector256 loops with the scalar formulas on the tail (the same
/// operations in the same order, so a vector lane and the tail agree bit for bit); tanh and sigmoid
/// forward use TensorPrimitives' vectorised functions.
/// </summary>
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Activation activation, ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        switch (activation)
        {
            case Activation.Tanh: TensorPrimitives.Tanh(x, y); return;
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(x, y); return;
            case Activation.Identity:
                if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y))) x.CopyTo(y);
                return;
        }
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            var s = Vector256.Create(slope);
            for (; i + Vector256<float>.Count <= x.Length; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var positive = Vector256.GreaterThan(v, Vector256<float>.Zero);
                var result = activation == Activation.Relu
                    ? Vector256.BitwiseAnd(v, positive)
                    : Vector256.ConditionalSelect(positive, v, v * s);
                result.StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = Apply(activation, x[i], slope);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Activation activation, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float slope)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float yr = ref MemoryMarshal.GetReference(y);
            ref float dyr = ref MemoryMarshal.GetReference(dy);
            ref float dxr = ref MemoryMarshal.GetReference(dx);
            var one = Vector256<float>.One;
            var s = Vector256.Create(slope);
            for (; i + Vector256<float>.Count <= y.Length; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref yr, (nuint)i);
                var g = Vector256.LoadUnsafe(ref dyr, (nuint)i);
                var result = activation switch
                {
                    Activation.Relu => g * Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), one, Vector256<float>.Zero),
                    Activation.LeakyRelu => g * Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), one, s),
                    Activation.Tanh => g * (one - v * v),
                    Activation.Sigmoid => g * (v * (one - v)),
                    _ => g,
                };
                result.StoreUnsafe(ref dxr, (nuint)i);
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * Derivative(activation, y[i], slope);
    }
}
