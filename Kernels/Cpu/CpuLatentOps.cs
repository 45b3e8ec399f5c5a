namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The latent-hierarchy and GAN ops on the CPU: the Gaussian-to-Gaussian KL, the precision-weighted merge
/// and its backward, and the logistic loss. Rows are split statically over the threads, and every element
/// goes through <see cref="LatentMath"/>, scalar MathF as the ILGPU kernels run it, with a KL row's terms
/// added in float in column order as the kernel adds them: the ILGPU kernels on ILGPU's CPU accelerator
/// give these bits.
/// </summary>
internal static class CpuLatentOps
{
    public static void GaussianKl(CpuAccelerator acc, DeviceView<float> q, DeviceView<float> p, int rows, int latent, float weight,
        DeviceView<float> perSampleLoss, DeviceView<float> dq, DeviceView<float> dp, DeviceView<float> perSampleKl)
    {
        float[] Q = q.Array(), P = p.Array(), L = perSampleLoss.Array(), DQ = dq.Array(), DP = dp.Array();
        int qo = q.Offset, po = p.Offset, lo = perSampleLoss.Offset, dqo = dq.Offset, dpo = dp.Offset;
        float[]? K = perSampleKl.IsNull ? null : perSampleKl.Array();
        int ko = perSampleKl.IsNull ? 0 : perSampleKl.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 4096 / latent), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                int row = i * 2 * latent;
                float twice = 0f;
                for (int j = 0; j < latent; j++)
                {
                    int mu = row + j, logvar = mu + latent;
                    var (term, dMu, dLq, dLp) = LatentMath.KlTerm(Q[qo + mu], Q[qo + logvar], P[po + mu], P[po + logvar]);
                    twice += term;
                    DQ[dqo + mu] += weight * dMu;
                    DQ[dqo + logvar] += weight * dLq;
                    DP[dpo + mu] -= weight * dMu;
                    DP[dpo + logvar] += weight * dLp;
                }
                float kl = 0.5f * twice;
                L[lo + i] += weight * kl;
                if (K != null) K[ko + i] = kl;
            }
        });
    }

    public static void PrecisionMerge(CpuAccelerator acc, DeviceView<float> bottomUp, DeviceView<float> topDown, int rows, int latent,
        DeviceView<float> merged)
    {
        float[] B = bottomUp.Array(), T = topDown.Array(), M = merged.Array();
        int bo = bottomUp.Offset, to = topDown.Offset, mo = merged.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 8192 / latent), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, logvar = mu + latent;
                var (m, s) = LatentMath.Merge(B[bo + mu], B[bo + logvar], T[to + mu], T[to + logvar]);
                M[mo + mu] = m;
                M[mo + logvar] = s;
            }
        });
    }

    public static void PrecisionMergeBackward(CpuAccelerator acc, DeviceView<float> bottomUp, DeviceView<float> topDown, DeviceView<float> dMerged,
        int rows, int latent, DeviceView<float> dBottomUp, DeviceView<float> dTopDown)
    {
        float[] B = bottomUp.Array(), T = topDown.Array(), G = dMerged.Array(), DB = dBottomUp.Array(), DT = dTopDown.Array();
        int bo = bottomUp.Offset, to = topDown.Offset, go = dMerged.Offset, dbo = dBottomUp.Offset, dto = dTopDown.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 8192 / latent), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            for (int j = 0; j < latent; j++)
            {
                int mu = i * 2 * latent + j, logvar = mu + latent;
                var (m1, l1, m2, l2) = LatentMath.MergeBackward(B[bo + mu], B[bo + logvar], T[to + mu], T[to + logvar], G[go + mu], G[go + logvar]);
                DB[dbo + mu] += m1;
                DB[dbo + logvar] += l1;
                DT[dto + mu] += m2;
                DT[dto + logvar] += l2;
            }
        });
    }

    public static void LogisticLoss(CpuAccelerator acc, DeviceView<float> logits, int rows, float target, float scale,
        DeviceView<float> perSampleLoss, DeviceView<float> dlogits)
    {
        float[] X = logits.Array(), L = perSampleLoss.Array(), D = dlogits.Array();
        int xo = logits.Offset, lo = perSampleLoss.Offset, dO = dlogits.Offset;
        CpuParallel.For(acc, rows, minChunk: 16384, (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
                (L[lo + i], D[dO + i]) = LatentMath.Logistic(X[xo + i], target, scale);
        });
    }
}
