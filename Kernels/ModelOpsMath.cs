namespace IlgpuVae.Kernels;

/// <summary>
/// The element rule of the noisy corruptions, shared by the CPU backend and the ILGPU kernels so both
/// make the same float operations in the same order. The kind travels as an int, its enum value.
/// </summary>
internal static class CorruptionMath
{
    public const int None = (int)CorruptionKind.None, Gaussian = (int)CorruptionKind.Gaussian,
        SaltPepper = (int)CorruptionKind.SaltPepper, Mask = (int)CorruptionKind.Mask;

    /// <summary>
    /// Gaussian: clamp(clean + amount * normal, 0, 1); salt-and-pepper: 0 below amount / 2, 1 below amount,
    /// else clean; mask: 0 below amount, else clean (of the uniform). The clamp is written as comparisons,
    /// not MathF.Min/Max, whose NaN handling differs between .NET and GPU min/max instructions.
    /// </summary>
    public static float Apply(int kind, float amount, float clean, float normal, float uniform)
    {
        if (kind == Gaussian)
        {
            float noisy = clean + amount * normal;
            return noisy < 0f ? 0f : noisy > 1f ? 1f : noisy;
        }
        if (kind == SaltPepper) return uniform < 0.5f * amount ? 0f : uniform < amount ? 1f : clean;
        if (kind == Mask) return uniform < amount ? 0f : clean;
        return clean;
    }
}

/// <summary>
/// The per-row and per-element arithmetic of <see cref="Accelerator.ScoreFunctionBackward"/>, shared by
/// the CPU backend and the ILGPU kernel. The baseline travels as an int, its enum value.
/// </summary>
internal static class ScoreMath
{
    public const int LeaveOneOut = (int)ScoreBaseline.LeaveOneOut;

    /// <summary>f_i: the per-sample loss less its weighted KL, the reconstruction term.</summary>
    public static float Reconstruction(float loss, float kl, float klWeight) => loss - klWeight * kl;

    /// <summary>w_i = f_i − b_i, b_i the leave-one-out mean (total − f_i) / (rows − 1), or 0 (no baseline, or a lone row).</summary>
    public static float Weight(float f, float total, int rows, int baseline)
        => baseline == LeaveOneOut && rows > 1 ? f - (total - f) / (rows - 1) : f;

    /// <summary>The two score terms of one element, w eps / sigma and w (eps^2 − 1) / 2, with sigma = exp(logvar / 2).</summary>
    public static (float, float) Terms(float w, float eps, float logvar)
    {
        float sigma = MathF.Exp(0.5f * logvar);
        return (w * eps / sigma, w * 0.5f * (eps * eps - 1f));
    }
}
