using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// The device-side sums: ReduceSum and the bias gradient. Both reduce in
/// shared memory along a fixed tree, never with atomics, so the bits depend on the group shape (fixed
/// per device) and not on scheduling.
/// </summary>
internal static class IlgpuReduceKernels
{
    /// <summary>The largest group a reduction here may run with (its shared arrays are this long).</summary>
    public const int MaxGroup = 256;

    /// <summary>Bias-gradient groups are BiasX columns by BiasY row-strided threads, at most 32 x 16.</summary>
    public const int MaxBiasX = 32, MaxBiasY = 16;

    /// <summary>
    /// result[0] = sum of values, by one group (a power of two in size): each thread a Kahan-compensated
    /// strided share, so a long vector keeps float accuracy, then a tree in shared memory.
    /// </summary>
    public static void Sum(ArrayView<float> values, ArrayView<float> result)
    {
        var share = SharedMemory.Allocate<float>(MaxGroup);
        int t = Group.IdxX, size = Group.DimX, count = values.IntLength;
        float sum = 0f, compensation = 0f;
        for (int e = t; e < count; e += size)
        {
            float y = values[e] - compensation;
            float s = sum + y;
            compensation = (s - sum) - y;
            sum = s;
        }
        share[t] = sum;
        Group.Barrier();
        for (int stride = size / 2; stride > 0; stride >>= 1)
        {
            if (t < stride) share[t] += share[t + stride];
            Group.Barrier();
        }
        if (t == 0) result[0] = share[0];
    }

    /// <summary>
    /// dbias[j] = sum_i dy[i, j]: a group takes BiasX columns (X) and BiasY threads share each column's
    /// rows (Y); thread row 0 then adds the BiasY partial sums in order. Column blocks are grid-strided,
    /// so a few groups cover any width.
    /// </summary>
    public static void BiasGradient(ArrayView<float> dy, ArrayView<float> dbias, int rows, int cols)
    {
        const int Stride = MaxBiasX + 1;
        var share = SharedMemory.Allocate<float>(MaxBiasY * Stride);
        int tx = Group.IdxX, ty = Group.IdxY, width = Group.DimX, height = Group.DimY;
        // The loop bound depends on the group index only: every thread of a group reaches each barrier.
        for (int block = Grid.IdxX; block * width < cols; block += Grid.DimX)
        {
            int j = block * width + tx;
            float sum = 0f;
            if (j < cols)
                for (int i = ty; i < rows; i += height) sum += dy[i * cols + j];
            if (height == 1)
            {
                // One thread a column (ILGPU's CPU accelerator): nothing to share, no barrier.
                if (j < cols) dbias[j] = sum;
                continue;
            }
            share[ty * Stride + tx] = sum;
            Group.Barrier();
            if (ty == 0 && j < cols)
            {
                float total = 0f;
                for (int r = 0; r < height; r++) total += share[r * Stride + tx];
                dbias[j] = total;
            }
            Group.Barrier();
        }
    }
}
