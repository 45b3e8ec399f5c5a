using System.Buffers;
using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The model-variant ops on the CPU: column copies, one-hot labels, input corruption and the
/// score-function gradient. The random corruptions walk the draw's Philox groups of four as SampleLatent
/// and GatherBatch do, with the shared <see cref="CorruptionMath"/> rule, so the ILGPU kernels (the same
/// C#) produce the same bits.
/// </summary>
internal static class CpuModelOps
{
    public static void CopyColumns(CpuAccelerator acc, DeviceView<float> source, int rows, int sourceColumns, int sourceOffset,
        DeviceView<float> destination, int destinationColumns, int destinationOffset, int count)
    {
        float[] S = source.Array(), D = destination.Array();
        int so = source.Offset + sourceOffset, dO = destination.Offset + destinationOffset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 16384 / count), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
                Array.Copy(S, so + i * sourceColumns, D, dO + i * destinationColumns, count);
        });
    }

    public static void GatherOneHot(DeviceView<byte> labels, DeviceView<int> indices, int rows, int classes,
        DeviceView<float> destination, int destinationColumns, int destinationOffset)
    {
        byte[] L = labels.Array(); int[] I = indices.Array(); float[] D = destination.Array();
        int lo = labels.Offset, io = indices.Offset, dO = destination.Offset + destinationOffset;
        // Checked before any write, so a bad index leaves destination as it was.
        for (int i = 0; i < rows; i++)
            if ((uint)I[io + i] >= (uint)labels.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), I[io + i], $"batch index outside the {labels.Length} labels");
        for (int i = 0; i < rows; i++)
        {
            var row = D.AsSpan(dO + i * destinationColumns, classes);
            row.Clear();
            int label = L[lo + I[io + i]];
            if (label < classes) row[label] = 1f;
        }
    }

    public static void Corrupt(CpuAccelerator acc, Corruption corruption, DeviceView<float> clean, int rows, int height, int width,
        RandomSource random, DeviceView<float> corrupted)
    {
        if (corruption.Kind == CorruptionKind.None) clean.Span().CopyTo(corrupted.Span());
        else if (corruption.Kind == CorruptionKind.Downsample) Downsample(acc, clean, rows, height, width, (int)corruption.Amount, corrupted);
        else Noise(acc, (int)corruption.Kind, corruption.Amount, clean, random, corrupted);
    }

    /// <summary>One Philox block per group of four of the whole draw's elements (Offset + e), groups split statically over the threads.</summary>
    private static void Noise(CpuAccelerator acc, int kind, float amount, DeviceView<float> clean, RandomSource random, DeviceView<float> corrupted)
    {
        float[] X = clean.Array(), Y = corrupted.Array();
        int xo = clean.Offset, yo = corrupted.Offset, count = clean.Length;
        long offset = random.Offset, firstGroup = offset >> 2, groups = ((offset + count + 3) >> 2) - firstGroup;
        CpuParallel.For(acc, (int)groups, minChunk: 256, (g0, g1) => NoiseGroups(kind, amount, X, xo, Y, yo, count, random, g0, g1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NoiseGroups(int kind, float amount, float[] X, int xo, float[] Y, int yo, int count, RandomSource random, int g0, int g1)
    {
        Span<uint> words = stackalloc uint[4];
        Span<float> normals = stackalloc float[4];
        long offset = random.Offset, firstGroup = offset >> 2;
        for (int k = g0; k < g1; k++)
        {
            long group = firstGroup + k;
            (words[0], words[1], words[2], words[3]) = Philox.ForGroup((uint)group, random);
            // The local elements of this group: e = group * 4 + lane - offset, for those inside [0, count).
            int laneStart = (int)Math.Max(0, offset - group * 4), laneEnd = (int)Math.Min(4, offset + count - group * 4);
            normals.Clear();
            if (kind == CorruptionMath.Gaussian)
                (normals[0], normals[1], normals[2], normals[3]) = Philox.GroupNormals(words[0], words[1], words[2], words[3], laneStart, laneEnd);
            for (int lane = laneStart; lane < laneEnd; lane++)
            {
                int e = (int)(group * 4 + lane - offset);
                Y[yo + e] = CorruptionMath.Apply(kind, amount, X[xo + e], normals[lane], Philox.Uniform(words[lane]));
            }
        }
    }

    /// <summary>Each block's sum once, in row-major order, then its mean into every pixel of the block; bands of blocks over the threads.</summary>
    private static void Downsample(CpuAccelerator acc, DeviceView<float> clean, int rows, int height, int width, int factor, DeviceView<float> corrupted)
    {
        float[] X = clean.Array(), Y = corrupted.Array();
        int xo = clean.Offset, yo = corrupted.Offset, pixels = height * width;
        int bands = (int)(((long)height + factor - 1) / factor);
        CpuParallel.For(acc, rows * bands, minChunk: Math.Max(1, 4096 / Math.Max(1, Math.Min(factor, height) * width)), (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                int image = b / bands, y0 = (b - image * bands) * factor, bh = Math.Min(factor, height - y0);
                for (int x0 = 0; x0 < width; x0 += factor)
                {
                    int bw = Math.Min(factor, width - x0), start = image * pixels + y0 * width + x0;
                    float sum = 0f;
                    for (int r = 0; r < bh; r++)
                        for (int c = 0; c < bw; c++) sum += X[xo + start + r * width + c];
                    float mean = sum / (bh * bw);
                    for (int r = 0; r < bh; r++) Y.AsSpan(yo + start + r * width, bw).Fill(mean);
                    if (width - x0 <= factor) break; // x0 + factor could overflow past a huge factor
                }
            }
        });
    }

    public static void ScoreFunctionBackward(CpuAccelerator acc, DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> perSampleLoss,
        DeviceView<float> perSampleKl, float klWeight, ScoreBaseline baseline, int rows, int latent, DeviceView<float> dstats)
    {
        float[] S = stats.Array(), E = eps.Array(), D = dstats.Array();
        int so = stats.Offset, eo = eps.Offset, dO = dstats.Offset;
        var loss = perSampleLoss.Span();
        var kl = perSampleKl.Span();
        float[] weights = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            // The rows' sum in float, row order: the ILGPU kernel adds the same terms in the same order.
            float total = 0f;
            for (int i = 0; i < rows; i++) total += weights[i] = ScoreMath.Reconstruction(loss[i], kl[i], klWeight);
            for (int i = 0; i < rows; i++) weights[i] = ScoreMath.Weight(weights[i], total, rows, (int)baseline);
            CpuParallel.For(acc, rows, minChunk: Math.Max(1, 8192 / latent), (r0, r1) =>
            {
                for (int i = r0; i < r1; i++)
                {
                    float w = weights[i];
                    int statsRow = so + i * 2 * latent, epsRow = eo + i * latent, dRow = dO + i * 2 * latent;
                    for (int j = 0; j < latent; j++)
                    {
                        var (dMu, dLogvar) = ScoreMath.Terms(w, E[epsRow + j], S[statsRow + latent + j]);
                        D[dRow + j] += dMu;
                        D[dRow + latent + j] += dLogvar;
                    }
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(weights);
        }
    }
}
