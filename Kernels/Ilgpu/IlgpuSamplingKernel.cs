using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The Philox key and counter words of a draw, as one kernel argument.</summary>
internal readonly struct PhiloxArgs
{
    public PhiloxArgs(RandomSource random)
    {
        SeedLow = (uint)random.Seed; SeedHigh = (uint)(random.Seed >> 32); Step = random.Step; Stream = random.Stream; Offset = random.Offset;
    }

    /// <summary>Offset is the whole draw's index of this call's element 0 (see <see cref="RandomSource"/>).</summary>
    public readonly uint SeedLow, SeedHigh, Step, Stream, Offset;

    /// <summary>Groups of four of the whole draw that a call over count elements touches (the first is Offset / 4).</summary>
    public int Groups(int count) => (int)(((long)Offset + count + 3 >> 2) - (Offset >> 2));

    /// <summary>The contract's block for element group (index / 4): counter (group, step, stream, 0), key the seed.</summary>
    public (uint, uint, uint, uint) Block(uint group) => Philox.Block(group, Step, Stream, 0u, SeedLow, SeedHigh);
}

/// <summary>
/// The reparameterisation z = mu + exp(logvar / 2) eps fused with the Gaussian draw, its backward, and
/// raw Philox blocks (known-answer checks of a device). The draw calls
/// Kernels/Philox.cs itself, the spec and the CPU backend's code: one thread draws one block and
/// serves its four elements with the same Box–Muller (MathF log, sqrt, cos, sin, in the same order),
/// so where the device's math is .NET's (ILGPU's CPU accelerator) eps is bit-identical to the CPU
/// backend's.
/// </summary>
internal static class IlgpuSamplingKernel
{
    /// <summary>stats is rows x (mu | logvar); count = rows * latent elements of eps and z.</summary>
    public static void Forward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent, PhiloxArgs random)
    {
        int count = eps.IntLength, groups = random.Groups(count);
        long offset = random.Offset;
        for (int k = Grid.GlobalIndex.X; k < groups; k += Grid.DimX * Group.DimX)
        {
            long group = (offset >> 2) + k;
            var (w0, w1, w2, w3) = random.Block((uint)group);
            // This call's elements of the group: e = group * 4 + lane - offset, inside [0, count).
            int laneStart = (int)IntrinsicMath.Max(0L, offset - group * 4), laneEnd = (int)IntrinsicMath.Min(4L, offset + count - group * 4);
            var (n0, n1, n2, n3) = Philox.GroupNormals(w0, w1, w2, w3, laneStart, laneEnd);
            for (int lane = laneStart; lane < laneEnd; lane++)
            {
                int e = (int)(group * 4 + lane - offset), i = e / latent, j = e - i * latent;
                float mu = stats[i * 2 * latent + j], logvar = stats[i * 2 * latent + latent + j];
                float normal = lane == 0 ? n0 : lane == 1 ? n1 : lane == 2 ? n2 : n3;
                eps[e] = normal;
                z[e] = mu + MathF.Exp(0.5f * logvar) * normal;
            }
        }
    }

    /// <summary>Accumulates into dstats (the loss kernel wrote the KL gradient there first).</summary>
    public static void Backward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dstats, int latent)
    {
        int count = eps.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int i = e / latent, j = e - i * latent;
            int mu = i * 2 * latent + j, logvar = mu + latent;
            float g = dz[e];
            dstats[mu] += g;
            dstats[logvar] += g * eps[e] * 0.5f * MathF.Exp(0.5f * stats[logvar]);
        }
    }

    /// <summary>output[4q .. 4q+3] = Philox4x32-10(counters[4q .. 4q+3], keys[2q .. 2q+1]).</summary>
    public static void Blocks(ArrayView<uint> counters, ArrayView<uint> keys, ArrayView<uint> output)
    {
        int blocks = counters.IntLength / 4;
        for (int q = Grid.GlobalIndex.X; q < blocks; q += Grid.DimX * Group.DimX)
        {
            var (w0, w1, w2, w3) = Philox.Block(counters[4 * q], counters[4 * q + 1], counters[4 * q + 2], counters[4 * q + 3],
                keys[2 * q], keys[2 * q + 1]);
            output[4 * q] = w0; output[4 * q + 1] = w1; output[4 * q + 2] = w2; output[4 * q + 3] = w3;
        }
    }
}
