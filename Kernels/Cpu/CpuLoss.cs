namespace IlgpuVae.Kernels.Cpu;

/// <summary>The fused VAE loss: per-sample negative ELBO and every gradient in one pass over the batch.</summary>
internal static class CpuLoss
{
    private const float HalfLog2Pi = 0.918938533204672742f;

    public static void Run(CpuAccelerator acc, LossSettings s, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl)
    {
        float[] L = logits.Array(), X = x.Array(), S = stats.Array(), P = perSampleLoss.Array(), DL = dlogits.Array(), DS = dstats.Array();
        int lo = logits.Offset, xo = x.Offset, so = stats.Offset, po = perSampleLoss.Offset, dlo = dlogits.Offset, dso = dstats.Offset;
        float[]? K = perSampleKl.IsNull ? null : perSampleKl.Array();
        int ko = perSampleKl.IsNull ? 0 : perSampleKl.Offset;
        float invVar = 1f / (s.Sigma * s.Sigma);
        float gaussConst = MathF.Log(s.Sigma) + HalfLog2Pi;
        Parallel.For(0, rows, acc.Parallel, i =>
        {
            double recon = 0;
            for (int d = 0; d < features; d++)
            {
                int e = i * features + d;
                float l = L[lo + e], t = X[xo + e];
                if (s.Likelihood == Likelihood.Bernoulli)
                {
                    recon += MathF.Max(l, 0f) - l * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(l)));
                    DL[dlo + e] = CpuActivations.Sigmoid(l) - t;
                }
                else
                {
                    float r = l - t;
                    recon += 0.5f * r * r * invVar + gaussConst;
                    DL[dlo + e] = r * invVar;
                }
            }
            double kl = 0;
            for (int j = 0; j < latent; j++)
            {
                int mu = so + i * 2 * latent + j, lv = mu + latent;
                float m = S[mu], v = S[lv], ev = MathF.Exp(v);
                kl += -0.5f * (1f + v - m * m - ev);
                DS[dso + i * 2 * latent + j] = s.Beta * m;
                DS[dso + i * 2 * latent + latent + j] = s.Beta * 0.5f * (ev - 1f);
            }
            P[po + i] = (float)(recon + s.Beta * kl);
            if (K != null) K[ko + i] = (float)kl;
        });
    }
}
