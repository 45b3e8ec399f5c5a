namespace IlgpuVae.Kernels;

/// <summary>
/// The per-element arithmetic of <see cref="Accelerator.GaussianKl"/>, <see cref="Accelerator.PrecisionMerge"/>,
/// <see cref="Accelerator.PrecisionMergeBackward"/> and <see cref="Accelerator.LogisticLoss"/>, shared by the
/// CPU backend and the ILGPU kernels so both make the same float operations in the same order (ILGPU's CPU
/// accelerator then gives the CPU backend's bits). Comparisons stand in for MathF.Min/Max, whose NaN
/// handling differs between .NET and GPU min/max instructions.
/// </summary>
internal static class LatentMath
{
    /// <summary>
    /// One latent unit of KL(N(mq, exp(lq)) || N(mp, exp(lp))): Twice is twice its KL term,
    /// lp − lq + exp(lq − lp) − 1 + (mq − mp)^2 exp(−lp); Mu = dKL/dmq = (mq − mp) exp(−lp) (dKL/dmp is −Mu);
    /// LogvarQ = dKL/dlq = (exp(lq − lp) − 1) / 2; LogvarP = dKL/dlp = (1 − exp(lq − lp) − (mq − mp)^2 exp(−lp)) / 2.
    /// </summary>
    public static (float Twice, float Mu, float LogvarQ, float LogvarP) KlTerm(float mq, float lq, float mp, float lp)
    {
        float diff = mq - mp;
        float precision = MathF.Exp(-lp);
        float ratio = MathF.Exp(lq - lp);
        float mean = diff * diff * precision;
        float twice = (lp - lq) + (ratio - 1f) + mean;
        return (twice, diff * precision, 0.5f * (ratio - 1f), 0.5f * (1f - ratio - mean));
    }

    /// <summary>
    /// The merge's weights w1 = sigmoid(l2 − l1), w2 = sigmoid(l1 − l2), and log(1 + exp(−|l1 − l2|)),
    /// all from one exp; Lower is min(l1, l2) (l1 when they tie).
    /// </summary>
    private static (float W1, float W2, float Lower, float Softplus) Weights(float l1, float l2)
    {
        float x = l2 - l1;
        float e = MathF.Exp(-MathF.Abs(x));
        float onePlus = 1f + e;
        bool first = x >= 0f;
        return ((first ? 1f : e) / onePlus, (first ? e : 1f) / onePlus, first ? l1 : l2, MathF.Log(onePlus));
    }

    /// <summary>The merged mu, w1 m1 + w2 m2, and logvar, min(l1, l2) − log(1 + exp(−|l1 − l2|)).</summary>
    public static (float Mu, float Logvar) Merge(float m1, float l1, float m2, float l2)
    {
        var (w1, w2, lower, softplus) = Weights(l1, l2);
        return (w1 * m1 + w2 * m2, lower - softplus);
    }

    /// <summary>
    /// The merge's input gradients from dMu, dLogvar: (dm1, dl1, dm2, dl2) = (dMu w1, dLogvar w1 − c,
    /// dMu w2, dLogvar w2 + c) with c = dMu (m1 − m2) w1 w2.
    /// </summary>
    public static (float M1, float L1, float M2, float L2) MergeBackward(float m1, float l1, float m2, float l2, float dMu, float dLogvar)
    {
        var (w1, w2, _, _) = Weights(l1, l2);
        float c = dMu * (m1 - m2) * (w1 * w2);
        return (dMu * w1, dLogvar * w1 - c, dMu * w2, dLogvar * w2 + c);
    }

    /// <summary>
    /// scale * (max(l, 0) − l t + log(1 + exp(−|l|))) and scale * (sigmoid(l) − t), sigmoid(l) =
    /// (l >= 0 ? 1 : e) / (1 + e) from the same e = exp(−|l|).
    /// </summary>
    public static (float Loss, float Gradient) Logistic(float l, float target, float scale)
    {
        float e = MathF.Exp(-MathF.Abs(l));
        float onePlus = 1f + e;
        float loss = (l > 0f ? l : 0f) - l * target + MathF.Log(onePlus);
        float sigmoid = (l >= 0f ? 1f : e) / onePlus;
        return (scale * loss, scale * (sigmoid - target));
    }
}
