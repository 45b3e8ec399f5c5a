using System.Runtime.CompilerServices;

namespace IlgpuVae.Kernels;

/// <summary>
/// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel Random Numbers: As Easy as 1, 2, 3", SC 2011)
/// and the conversions every backend shares. Counter-based: the same (key, counter) gives the same
/// numbers on every backend, so no RNG state lives on a device and resume is exact. The ILGPU kernels
/// call these same functions, and tests hold every backend's draws to them.
/// </summary>
public static class Philox
{
    public const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Ten rounds of Philox4x32 on the counter (c0..c3) with key (k0, k1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (uint, uint, uint, uint) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>The four words for element group (index / 4) of a draw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (uint, uint, uint, uint) ForGroup(uint group, RandomSource random)
        => Block(group, random.Step, random.Stream, 0u, (uint)random.Seed, (uint)(random.Seed >> 32));

    /// <summary>A uniform in the open interval (0, 1): ((w >> 8) + 0.5) / 2^24, exact in float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(uint word) => ((word >> 8) + 0.5f) * (1f / 16777216f);

    /// <summary>Box–Muller: two uniforms in (0, 1) to two independent standard normals.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float, float) BoxMuller(uint wordA, uint wordB)
    {
        float r = MathF.Sqrt(-2f * MathF.Log(Uniform(wordA)));
        float theta = 2f * MathF.PI * Uniform(wordB);
        return (r * MathF.Cos(theta), r * MathF.Sin(theta));
    }

    /// <summary>
    /// The four normals of one block, as the contract assigns them to the lanes of its element group:
    /// Box–Muller on (w0, w1) for lanes 0 and 1, on (w2, w3) for lanes 2 and 3. A pair that no lane of
    /// [laneStart, laneEnd) uses is not computed (it reads 0): the part groups at either end of a draw.
    /// Every Gaussian draw (SampleLatent, Corrupt) goes through here, so they draw the same numbers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float, float, float, float) GroupNormals(uint w0, uint w1, uint w2, uint w3, int laneStart, int laneEnd)
    {
        float n0 = 0f, n1 = 0f, n2 = 0f, n3 = 0f;
        if (laneStart < 2) (n0, n1) = BoxMuller(w0, w1);
        if (laneEnd > 2) (n2, n3) = BoxMuller(w2, w3);
        return (n0, n1, n2, n3);
    }

    /// <summary>The standard normal the contract assigns to element index e of a draw (e + random.Offset of the whole draw).</summary>
    public static float Normal(int element, RandomSource random)
    {
        uint index = (uint)element + random.Offset;
        var (w0, w1, w2, w3) = ForGroup(index >> 2, random);
        int lane = (int)(index & 3);
        var (a, b) = lane < 2 ? BoxMuller(w0, w1) : BoxMuller(w2, w3);
        return (lane & 1) == 0 ? a : b;
    }

    /// <summary>The uniform the contract assigns to element index e of a draw (e + random.Offset of the whole draw; binarisation).</summary>
    public static float UniformAt(int element, RandomSource random)
    {
        uint index = (uint)element + random.Offset;
        var (w0, w1, w2, w3) = ForGroup(index >> 2, random);
        return Uniform((index & 3) switch { 0 => w0, 1 => w1, 2 => w2, _ => w3 });
    }
}
