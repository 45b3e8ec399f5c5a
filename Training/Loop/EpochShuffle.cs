using IlgpuVae.Kernels;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// The order of the training samples in an epoch: a Fisher–Yates shuffle driven by Philox with key =
/// seed and counter = (draw / 2, epoch, ShuffleStream), so an epoch's order depends only on (seed,
/// epoch) and a resumed run sees the same orders.
/// </summary>
public static class EpochShuffle
{
    /// <summary>Philox stream word of the shuffles; never one of the training draws' <see cref="RandomStream"/> numbers.</summary>
    public const uint ShuffleStream = 0x53485546; // "SHUF"

    public static int[] Permutation(int count, ulong seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var random = new RandomSource(seed, (uint)epoch, ShuffleStream);
        for (int i = count - 1; i > 0; i--)
        {
            // 64 random bits per draw make the modulo bias (< 2^-32 for any data set) immaterial.
            var (w0, w1, w2, w3) = Philox.ForGroup((uint)i >> 1, random);
            ulong bits = (i & 1) == 0 ? ((ulong)w0 << 32 | w1) : ((ulong)w2 << 32 | w3);
            int j = (int)(bits % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
