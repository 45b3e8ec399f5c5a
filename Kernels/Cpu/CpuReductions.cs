using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels.Cpu;

internal static class CpuReductions
{
    /// <summary>Column sums of a rows x cols matrix (the bias gradient), row after row: a fixed order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnSums(ReadOnlySpan<float> dy, int rows, int cols, Span<float> result)
    {
        dy[..cols].CopyTo(result);
        for (int i = 1; i < rows; i++) TensorPrimitives.Add(result, dy.Slice(i * cols, cols), result);
    }

    /// <summary>Sum in double, so the result does not depend on the length's rounding history.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> values)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= values.Length; i += 4)
        {
            s0 += values[i]; s1 += values[i + 1]; s2 += values[i + 2]; s3 += values[i + 3];
        }
        for (; i < values.Length; i++) s0 += values[i];
        return (float)((s0 + s1) + (s2 + s3));
    }
}
