using System.Globalization;

namespace IlgpuVae.Kernels;

/// <summary>The corruptions of <see cref="Accelerator.Corrupt"/>. The numeric values are shared with the kernel sources.</summary>
public enum CorruptionKind { None = 0, Gaussian = 1, SaltPepper = 2, Mask = 3, Downsample = 4 }

/// <summary>
/// The baseline subtracted from the reconstruction term in <see cref="Accelerator.ScoreFunctionBackward"/>:
/// none, or each row's leave-one-out mean of the other rows' terms (keeps the estimator unbiased).
/// </summary>
public enum ScoreBaseline { None = 0, LeaveOneOut = 1 }

/// <summary>
/// How a denoising (or super-resolution) VAE corrupts its input, with the kind's one parameter: the
/// Gaussian noise's standard deviation, the salt-and-pepper or masking probability, or the downsampling
/// factor. Written as text the way the command line takes it: "none", "gaussian:S", "salt-pepper:P",
/// "mask:P", "downsample:F" (<see cref="Parse"/> and <see cref="ToString"/> round trip).
/// </summary>
public readonly record struct Corruption(CorruptionKind Kind, float Amount)
{
    /// <summary>
    /// The largest downsampling factor: factors are carried as floats, exact for integers up to 2^24,
    /// and a factor beyond any image's side is one block per image anyway.
    /// </summary>
    public const int MaxDownsampleFactor = 1 << 24;

    public static Corruption None => default;

    private const string Expected = "expected none, gaussian:S (S > 0), salt-pepper:P or mask:P (0 < P <= 1), or downsample:F (an integer F >= 2)";

    /// <summary>Reads "none", "gaussian:S", "salt-pepper:P", "mask:P" or "downsample:F"; FormatException names the text otherwise.</summary>
    public static Corruption Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text == "none") return None;
        int colon = text.IndexOf(':');
        string name = colon < 0 ? text : text[..colon], value = colon < 0 ? "" : text[(colon + 1)..];
        CorruptionKind? kind = name switch
        {
            "gaussian" => CorruptionKind.Gaussian,
            "salt-pepper" => CorruptionKind.SaltPepper,
            "mask" => CorruptionKind.Mask,
            "downsample" => CorruptionKind.Downsample,
            _ => null,
        };
        if (kind is null || colon < 0) throw new FormatException($"'{text}' is not a corruption: {Expected}");
        float amount;
        if (kind == CorruptionKind.Downsample)
            amount = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int factor) ? factor : float.NaN;
        else
            amount = float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float parsed) ? parsed : float.NaN;
        var corruption = new Corruption(kind.Value, amount);
        string? problem = corruption.Problem();
        if (problem is not null) throw new FormatException($"'{text}' is not a corruption ({problem}): {Expected}");
        return corruption;
    }

    /// <summary>The text <see cref="Parse"/> reads back to this value (invariant culture, round-trip formatting).</summary>
    public override string ToString()
    {
        if (Kind == CorruptionKind.None) return "none";
        string name = Kind switch
        {
            CorruptionKind.Gaussian => "gaussian",
            CorruptionKind.SaltPepper => "salt-pepper",
            CorruptionKind.Mask => "mask",
            CorruptionKind.Downsample => "downsample",
            _ => ((int)Kind).ToString(CultureInfo.InvariantCulture),
        };
        // A whole factor as an integer: "R" writes 1E+07 for ten million, which downsample:F does not read.
        string amount = Kind == CorruptionKind.Downsample && Amount == MathF.Floor(Amount) && Math.Abs(Amount) <= MaxDownsampleFactor
            ? ((int)Amount).ToString(CultureInfo.InvariantCulture)
            : Amount.ToString("R", CultureInfo.InvariantCulture);
        return $"{name}:{amount}";
    }

    /// <summary>Why this value is not a valid corruption, or null when it is (None ignores Amount).</summary>
    internal string? Problem() => Kind switch
    {
        CorruptionKind.None => null,
        CorruptionKind.Gaussian => Amount > 0 && float.IsFinite(Amount) ? null : "the noise's standard deviation must be finite and > 0",
        CorruptionKind.SaltPepper or CorruptionKind.Mask => Amount is > 0 and <= 1 ? null : "the probability must be in (0, 1]",
        CorruptionKind.Downsample => Amount >= 2 && Amount <= MaxDownsampleFactor && Amount == MathF.Floor(Amount)
            ? null : $"the factor must be an integer in 2..{MaxDownsampleFactor}",
        _ => "unknown kind",
    };
}
