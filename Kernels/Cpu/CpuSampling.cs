namespace IlgpuVae.Kernels.Cpu;

/// <summary>Reparameterised Gaussian sampling z = mu + exp(logvar/2) * eps, forward and backward.</summary>
internal static class CpuSampling
{
    public static void Forward(ReadOnlySpan<float> stats, int rows, int latent, RandomSource random, Span<float> eps, Span<float> z)
    {
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < latent; j++)
        {
            int e = i * latent + j;
            float mu = stats[i * 2 * latent + j], logvar = stats[i * 2 * latent + latent + j];
            float n = Philox.Normal(e, random);
            eps[e] = n;
            z[e] = mu + MathF.Exp(0.5f * logvar) * n;
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
