namespace IlgpuVae.Kernels.Cpu;

internal static class CpuReductions
{
    /// <summary>Column sums of a rows x cols matrix (the bias gradient).</summary>
    public static void ColumnSums(ReadOnlySpan<float> dy, int rows, int cols, Span<float> result)
    {
        result.Clear();
        for (int i = 0; i < rows; i++)
        {
            var row = dy.Slice(i * cols, cols);
            for (int j = 0; j < cols; j++) result[j] += row[j];
        }
    }

    /// <summary>Sum in double, so the result does not depend on the length's rounding history.</summary>
    public static float Sum(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += v;
        return (float)sum;
    }
}
