namespace IlgpuVae.Kernels.Cpu;

/// <summary>Free bits on the CPU: the column means in row order (one pass per dimension), then the rows in parallel.</summary>
internal static class CpuFreeBits
{
    public static void FreeBits(CpuAccelerator acc, DeviceView<float> stats, int rows, int latent, float lambda, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dstats, DeviceView<float> freed)
    {
        float[] S = stats.Array(), L = perSampleLoss.Array(), D = dstats.Array(), F = freed.Array();
        int so = stats.Offset, lo = perSampleLoss.Offset, dso = dstats.Offset, fo = freed.Offset;
        for (int j = 0; j < latent; j++)
        {
            float sum = 0f;
            for (int i = 0; i < rows; i++) sum += FreeBitsMath.Kl(S[so + i * 2 * latent + j], S[so + i * 2 * latent + latent + j]);
            F[fo + j] = sum / rows < lambda ? 1f : 0f;
        }
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 4096 / latent), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                float added = 0f;
                for (int j = 0; j < latent; j++)
                {
                    if (F[fo + j] == 0f) continue;
                    int mu = i * 2 * latent + j;
                    added += lambda - FreeBitsMath.Kl(S[so + mu], S[so + mu + latent]);
                    D[dso + mu] = 0f;
                    D[dso + mu + latent] = 0f;
                }
                L[lo + i] += weight * added;
            }
        });
    }
}
