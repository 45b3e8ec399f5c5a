namespace IlgpuVae.Kernels.Cpu;

/// <summary>Batch gather from the resident uint8 data set, scaled to [0, 1], optionally binarised.</summary>
internal static class CpuGather
{
    public static void Run(CpuAccelerator acc, DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
    {
        byte[] D = data.Array(); int[] I = indices.Array(); float[] O = output.Array();
        int dOff = data.Offset, iOff = indices.Offset, oOff = output.Offset;
        int samples = data.Length / features;
        Parallel.For(0, rows, acc.Parallel, r =>
        {
            int index = I[iOff + r];
            if ((uint)index >= (uint)samples)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"batch index outside the data set of {samples} samples");
            int src = dOff + index * features;
            for (int d = 0; d < features; d++)
            {
                float value = D[src + d] * (1f / 255f);
                int e = r * features + d;
                if (binarize) value = Philox.UniformAt(e, random) < value ? 1f : 0f;
                O[oOff + e] = value;
            }
        });
    }
}
