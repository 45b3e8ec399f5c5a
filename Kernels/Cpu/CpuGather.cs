using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Batch gather from the resident uint8 data set, scaled to [0, 1] as value * (1f / 255f), optionally
/// binarised: output[e] = u(e) &lt; value, with one Philox block per group of four elements.
/// </summary>
internal static unsafe class CpuGather
{
    public static void Run(CpuAccelerator acc, DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
    {
        byte[] D = data.Array(); int[] I = indices.Array(); float[] O = output.Array();
        int dOff = data.Offset, iOff = indices.Offset, oOff = output.Offset;
        int samples = data.Length / features;
        // Checked here, on the calling thread, so a bad index surfaces as itself and not wrapped by a worker.
        for (int r = 0; r < rows; r++)
            if ((uint)I[iOff + r] >= (uint)samples)
                throw new ArgumentOutOfRangeException(nameof(indices), I[iOff + r], $"batch index outside the data set of {samples} samples");
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 32768 / features), (r0, r1) =>
        {
            fixed (byte* d = D)
            fixed (float* o = O)
            {
                for (int r = r0; r < r1; r++)
                {
                    Scale(d + dOff + (long)I[iOff + r] * features, o + oOff + (long)r * features, features);
                }
                if (binarize) Binarize(o + oOff, r0 * features, r1 * features, random);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(byte* src, float* dst, int count)
    {
        const float inv255 = 1f / 255f;
        int i = 0;
        if (Avx2.IsSupported)
        {
            var scale = Vector256.Create(inv255);
            for (; i + 8 <= count; i += 8)
                Avx.Store(dst + i, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + i)), scale));
        }
        for (; i < count; i++) dst[i] = src[i] * inv255;
    }

    /// <summary>
    /// Thresholds output elements [start, end) (batch element indices) against their Philox uniforms, those
    /// of the whole draw's elements Offset + e.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Binarize(float* output, int start, int end, RandomSource random)
    {
        int e = start;
        while (e < end)
        {
            uint index = (uint)e + random.Offset, group = index >> 2;
            var (w0, w1, w2, w3) = Philox.ForGroup(group, random);
            int groupEnd = (int)Math.Min(end, (long)e + 4 - (index & 3));
            for (; e < groupEnd; e++)
            {
                uint word = (((uint)e + random.Offset) & 3) switch { 0 => w0, 1 => w1, 2 => w2, _ => w3 };
                output[e] = Philox.Uniform(word) < output[e] ? 1f : 0f;
            }
        }
    }
}
