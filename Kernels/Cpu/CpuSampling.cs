using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Reparameterised Gaussian sampling z = mu + exp(logvar/2) * eps, forward and backward. The forward
/// runs one Philox block and two Box–Muller pairs per group of four elements (the contract's layout),
/// groups split statically over the threads; each eps is exactly Philox.Normal of its element.
/// </summary>
internal static class CpuSampling
{
    public static void Forward(CpuAccelerator acc, DeviceView<float> stats, int rows, int latent, RandomSource random,
        DeviceView<float> eps, DeviceView<float> z)
    {
        float[] S = stats.Array(), E = eps.Array(), Z = z.Array();
        int so = stats.Offset, eo = eps.Offset, zo = z.Offset;
        // Groups of four of the whole draw's element indices (Offset + e) that this call's elements touch.
        int count = rows * latent;
        long firstGroup = random.Offset >> 2, groups = ((random.Offset + (long)count + 3) >> 2) - firstGroup;
        CpuParallel.For(acc, (int)groups, minChunk: 256, (g0, g1) => Groups(S, so, E, eo, Z, zo, count, latent, random, g0, g1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Groups(float[] S, int so, float[] E, int eo, float[] Z, int zo, int count, int latent, RandomSource random, int g0, int g1)
    {
        Span<float> normals = stackalloc float[4];
        long offset = random.Offset, firstGroup = offset >> 2;
        for (int k = g0; k < g1; k++)
        {
            long group = firstGroup + k;
            var (w0, w1, w2, w3) = Philox.ForGroup((uint)group, random);
            // The local elements of this group: e = group * 4 + lane - offset, for those inside [0, count).
            int laneStart = (int)Math.Max(0, offset - group * 4), laneEnd = (int)Math.Min(4, offset + count - group * 4);
            (normals[0], normals[1], normals[2], normals[3]) = Philox.GroupNormals(w0, w1, w2, w3, laneStart, laneEnd);
            for (int lane = laneStart; lane < laneEnd; lane++)
            {
                int e = (int)(group * 4 + lane - offset), i = e / latent, j = e - i * latent;
                float mu = S[so + i * 2 * latent + j], logvar = S[so + i * 2 * latent + latent + j];
                float n = normals[lane];
                E[eo + e] = n;
                Z[zo + e] = mu + MathF.Exp(0.5f * logvar) * n;
            }
        }
    }

    public static void Backward(ReadOnlySpan<float> stats, ReadOnlySpan<float> eps, ReadOnlySpan<float> dz, int rows, int latent, Span<float> dstats)
    {
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int e = i * latent + j;
            int mu = i * 2 * latent + j, lv = mu + latent;
            dstats[mu] += dz[e];
            dstats[lv] += dz[e] * eps[e] * 0.5f * MathF.Exp(0.5f * stats[lv]);
        }
    }
}
