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
        int count = rows * latent, groups = (count + 3) / 4;
        CpuParallel.For(acc, groups, minChunk: 256, (g0, g1) => Groups(S, so, E, eo, Z, zo, count, latent, random, g0, g1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Groups(float[] S, int so, float[] E, int eo, float[] Z, int zo, int count, int latent, RandomSource random, int g0, int g1)
    {
        Span<float> normals = stackalloc float[4];
        for (int g = g0; g < g1; g++)
        {
            var (w0, w1, w2, w3) = Philox.ForGroup((uint)g, random);
            int first = g * 4, lanes = Math.Min(4, count - first);
            (normals[0], normals[1]) = Philox.BoxMuller(w0, w1);
            if (lanes > 2) (normals[2], normals[3]) = Philox.BoxMuller(w2, w3);
            for (int lane = 0; lane < lanes; lane++)
            {
                int e = first + lane, i = e / latent, j = e - i * latent;
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
