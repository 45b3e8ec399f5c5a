using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The shape of a column copy or a one-hot gather: rows of count columns, placed at offsets within wider rows.</summary>
internal readonly struct ColumnsArgs
{
    public ColumnsArgs(int rows, int count, int sourceColumns, int sourceOffset, int destinationColumns, int destinationOffset)
    {
        Rows = rows; Count = count; SourceColumns = sourceColumns; SourceOffset = sourceOffset;
        DestinationColumns = destinationColumns; DestinationOffset = destinationOffset;
    }

    public readonly int Rows, Count, SourceColumns, SourceOffset, DestinationColumns, DestinationOffset;
}

/// <summary>The scalars of a score-function launch, as one kernel argument.</summary>
internal readonly struct ScoreArgs
{
    public ScoreArgs(int rows, int latent, float klWeight, ScoreBaseline baseline)
    {
        Rows = rows; Latent = latent; KlWeight = klWeight; Baseline = (int)baseline;
    }

    public readonly int Rows, Latent, Baseline;
    public readonly float KlWeight;
}

/// <summary>
/// The kernels of the model-variant ops: element-wise and grid-strided (a few groups cover any batch,
/// which is what ILGPU's CPU accelerator needs). The random corruptions take one thread per Philox group
/// of four, like the sampling and gather kernels, and the element rules are the CPU backend's own
/// (<see cref="CorruptionMath"/>, <see cref="ScoreMath"/>), so ILGPU's CPU accelerator gives its bits.
/// </summary>
internal static class IlgpuModelKernels
{
    /// <summary>destination[i, DestinationOffset + j] = source[i, SourceOffset + j] for j &lt; Count.</summary>
    public static void CopyColumns(ArrayView<float> source, ArrayView<float> destination, ColumnsArgs args)
    {
        int total = args.Rows * args.Count;
        for (int e = Grid.GlobalIndex.X; e < total; e += Grid.DimX * Group.DimX)
        {
            int i = e / args.Count, j = e - i * args.Count;
            destination[i * args.DestinationColumns + args.DestinationOffset + j] = source[i * args.SourceColumns + args.SourceOffset + j];
        }
    }

    /// <summary>destination[i, DestinationOffset + c] = labels[indices[i]] == c ? 1 : 0 for c &lt; Count (the classes).</summary>
    public static void GatherOneHot(ArrayView<byte> labels, ArrayView<int> indices, ArrayView<float> destination, ColumnsArgs args)
    {
        int total = args.Rows * args.Count, samples = labels.IntLength;
        for (int e = Grid.GlobalIndex.X; e < total; e += Grid.DimX * Group.DimX)
        {
            int i = e / args.Count, c = e - i * args.Count, index = indices[i];
            // The host owns index validity; an out-of-range row becomes NaN instead of a wild read.
            float value = index < 0 || index >= samples ? float.NaN : labels[index] == c ? 1f : 0f;
            destination[i * args.DestinationColumns + args.DestinationOffset + c] = value;
        }
    }

    /// <summary>
    /// None, Gaussian, salt-and-pepper or mask corruption (kind, its CorruptionKind value): one thread per
    /// Philox group of the whole draw (element e is the draw's e + Offset), the group's normals only for
    /// Gaussian noise, the words' uniforms for the others.
    /// </summary>
    public static void CorruptNoise(ArrayView<float> clean, ArrayView<float> corrupted, int kind, float amount, PhiloxArgs random)
    {
        int count = corrupted.IntLength, groups = random.Groups(count);
        long offset = random.Offset;
        for (int k = Grid.GlobalIndex.X; k < groups; k += Grid.DimX * Group.DimX)
        {
            long group = (offset >> 2) + k;
            uint w0 = 0u, w1 = 0u, w2 = 0u, w3 = 0u;
            if (kind != CorruptionMath.None) (w0, w1, w2, w3) = random.Block((uint)group);
            // This call's elements of the group: e = group * 4 + lane - offset, inside [0, count).
            int laneStart = (int)IntrinsicMath.Max(0L, offset - group * 4), laneEnd = (int)IntrinsicMath.Min(4L, offset + count - group * 4);
            float n0 = 0f, n1 = 0f, n2 = 0f, n3 = 0f;
            if (kind == CorruptionMath.Gaussian) (n0, n1, n2, n3) = Philox.GroupNormals(w0, w1, w2, w3, laneStart, laneEnd);
            for (int lane = laneStart; lane < laneEnd; lane++)
            {
                int e = (int)(group * 4 + lane - offset);
                uint word = lane == 0 ? w0 : lane == 1 ? w1 : lane == 2 ? w2 : w3;
                float normal = lane == 0 ? n0 : lane == 1 ? n1 : lane == 2 ? n2 : n3;
                corrupted[e] = CorruptionMath.Apply(kind, amount, clean[e], normal, Philox.Uniform(word));
            }
        }
    }

    /// <summary>
    /// Every pixel the mean of its factor x factor block: each thread sums its own pixel's block, in
    /// row-major order as the CPU backend does, and divides by the block's pixel count.
    /// </summary>
    public static void CorruptDownsample(ArrayView<float> clean, ArrayView<float> corrupted, int height, int width, int factor)
    {
        int count = corrupted.IntLength, pixels = height * width;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int image = e / pixels, p = e - image * pixels, y = p / width, x = p - y * width;
            int y0 = y / factor * factor, x0 = x / factor * factor;
            int bh = IntrinsicMath.Min(factor, height - y0), bw = IntrinsicMath.Min(factor, width - x0);
            int start = image * pixels + y0 * width + x0;
            float sum = 0f;
            for (int r = 0; r < bh; r++)
                for (int c = 0; c < bw; c++) sum += clean[start + r * width + c];
            corrupted[e] = sum / (bh * bw);
        }
    }

    /// <summary>
    /// The score-function gradient, accumulated into dstats. Thread 0 of every group sums the rows'
    /// reconstruction terms in row order (the CPU backend's sum, bit for bit; rows is a batch, so each
    /// group repeating it costs less than a second launch would), then the group's threads take elements.
    /// </summary>
    public static void ScoreFunction(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> loss, ArrayView<float> kl,
        ArrayView<float> dstats, ScoreArgs args)
    {
        var shared = SharedMemory.Allocate<float>(1);
        int rows = args.Rows, latent = args.Latent;
        if (Group.IdxX == 0)
        {
            float total = 0f;
            if (args.Baseline == ScoreMath.LeaveOneOut)
                for (int k = 0; k < rows; k++) total += ScoreMath.Reconstruction(loss[k], kl[k], args.KlWeight);
            shared[0] = total;
        }
        Group.Barrier();
        float sum = shared[0];
        int count = rows * latent;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int i = e / latent, j = e - i * latent;
            float w = ScoreMath.Weight(ScoreMath.Reconstruction(loss[i], kl[i], args.KlWeight), sum, rows, args.Baseline);
            int mu = i * 2 * latent + j, logvar = mu + latent;
            var (dMu, dLogvar) = ScoreMath.Terms(w, eps[e], stats[logvar]);
            dstats[mu] += dMu;
            dstats[logvar] += dLogvar;
        }
    }
}
