namespace IlgpuVae.Kernels;

/// <summary>
/// The ops of the model variants beyond the plain VAE: column copies and one-hot labels to build the
/// conditional VAE's [x | onehot(y)] and [z | onehot(y)] inputs (and take dz out of d[z | y]), the
/// corruption of a denoising or super-resolution VAE's input, and the score-function (REINFORCE)
/// estimator of the encoder's gradient.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>The most classes <see cref="GatherOneHot"/> takes: labels are bytes.</summary>
    public const int MaxClasses = 256;

    /// <summary>
    /// A block of columns from one row-major matrix into another: for i &lt; rows, j &lt; count,
    /// destination[i * destinationColumns + destinationOffset + j] = source[i * sourceColumns + sourceOffset + j].
    /// The other elements of destination are untouched. The views must not overlap.
    /// </summary>
    public void CopyColumns(DeviceView<float> source, int rows, int sourceColumns, int sourceOffset,
        DeviceView<float> destination, int destinationColumns, int destinationOffset, int count)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(count, nameof(count));
        RequireColumns(sourceColumns, sourceOffset, count, nameof(sourceOffset));
        RequireColumns(destinationColumns, destinationOffset, count, nameof(destinationOffset));
        RequireLength(source, (long)rows * sourceColumns, nameof(source), $"{rows}x{sourceColumns}");
        RequireLength(destination, (long)rows * destinationColumns, nameof(destination), $"{rows}x{destinationColumns}");
        RequireApart(source, destination, nameof(destination));
        CopyColumnsCore(source, rows, sourceColumns, sourceOffset, destination, destinationColumns, destinationOffset, count);
    }

    /// <summary>
    /// One-hot rows of the labels of a batch: for i &lt; rows, c &lt; classes,
    /// destination[i * destinationColumns + destinationOffset + c] = labels[indices[i]] == c ? 1 : 0.
    /// The other elements of destination are untouched. labels is the whole data set's, on the device;
    /// the host checked them to be below classes when it loaded them, and indices outside labels are a
    /// contract violation the host checks where it builds them (as for <see cref="GatherBatch"/>).
    /// </summary>
    public void GatherOneHot(DeviceView<byte> labels, DeviceView<int> indices, int rows, int classes,
        DeviceView<float> destination, int destinationColumns, int destinationOffset)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows));
        if (classes is < 1 or > MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"classes must be in 1..{MaxClasses} (labels are bytes)");
        RequireColumns(destinationColumns, destinationOffset, classes, nameof(destinationOffset));
        Require(labels, nameof(labels));
        RequireLength(indices, rows, nameof(indices), $"{rows}");
        RequireLength(destination, (long)rows * destinationColumns, nameof(destination), $"{rows}x{destinationColumns}");
        GatherOneHotCore(labels, indices, rows, classes, destination, destinationColumns, destinationOffset);
    }

    /// <summary>
    /// Corrupts rows images of height x width features each (row-major), element e = i * height * width + p:
    /// None copies; Gaussian S gives clamp(clean[e] + S n_e, 0, 1), n_e the normal <see cref="SampleLatent"/>
    /// draws for element e with the same random source; SaltPepper P gives 0 where u_e &lt; P / 2, else 1
    /// where u_e &lt; P, else clean[e]; Mask P gives 0 where u_e &lt; P, else clean[e], u_e the uniform
    /// <see cref="GatherBatch"/>'s binarisation draws for element e (counter e / 4, step, stream, 0; word
    /// e % 4; both with random.Offset added to e). Downsample F cuts each image into F x F blocks (the last
    /// row and column of blocks smaller where F does not divide the side) and sets every pixel to its
    /// block's mean, the block's sum in row-major order divided by its pixel count: nearest-neighbour
    /// upsampling of the average-pooled image, no randomness. corrupted must not overlap clean.
    /// </summary>
    public void Corrupt(Corruption corruption, DeviceView<float> clean, int rows, int height, int width, RandomSource random,
        DeviceView<float> corrupted)
    {
        ThrowIfDisposed();
        string? problem = corruption.Problem();
        if (problem is not null) throw new ArgumentOutOfRangeException(nameof(corruption), corruption, problem);
        RequirePositive(rows, nameof(rows)); RequirePositive(height, nameof(height)); RequirePositive(width, nameof(width));
        long count = (long)rows * height * width;
        RequireLength(clean, count, nameof(clean), $"{rows}x{height}x{width}");
        RequireLength(corrupted, count, nameof(corrupted), $"{rows}x{height}x{width}");
        RequireApart(clean, corrupted, nameof(corrupted));
        CorruptCore(corruption, clean, rows, height, width, random, corrupted);
    }

    /// <summary>
    /// The score-function (REINFORCE) estimator of the encoder's gradient of E_q[recon], used instead of
    /// <see cref="SampleLatentBackward"/>. Per row i, f_i = perSampleLoss[i] − klWeight perSampleKl[i] (the
    /// reconstruction term of <see cref="VaeLoss"/>'s loss), b_i = 0 (None) or (sum_k f_k − f_i) / (rows − 1)
    /// (LeaveOneOut; 0 when rows = 1), w_i = f_i − b_i; with sigma = exp(logvar / 2), since z = mu + sigma eps
    /// gives d log q(z|x) / d mu = eps / sigma and d log q / d logvar = (eps^2 − 1) / 2:
    /// dstats[i, j] += w_i eps_ij / sigma_ij and dstats[i, latent + j] += w_i (eps_ij^2 − 1) / 2.
    /// Accumulates into dstats, which <see cref="VaeLoss"/> filled with the KL gradient. The sum over rows is
    /// taken in float in row order on every backend. stats is rows x (mu | logvar), eps rows x latent.
    /// </summary>
    public void ScoreFunctionBackward(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> perSampleLoss,
        DeviceView<float> perSampleKl, float klWeight, ScoreBaseline baseline, int rows, int latent, DeviceView<float> dstats)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(latent, nameof(latent));
        if (!(klWeight >= 0) || float.IsInfinity(klWeight))
            throw new ArgumentOutOfRangeException(nameof(klWeight), klWeight, "klWeight must be finite and >= 0");
        if (baseline is not (ScoreBaseline.None or ScoreBaseline.LeaveOneOut))
            throw new ArgumentOutOfRangeException(nameof(baseline), baseline, "unknown baseline");
        RequireLength(stats, 2L * rows * latent, nameof(stats), $"{rows}x{2 * latent} (mu | logvar)");
        RequireLength(eps, (long)rows * latent, nameof(eps), $"{rows}x{latent}");
        RequireLength(perSampleLoss, rows, nameof(perSampleLoss), $"{rows}");
        RequireLength(perSampleKl, rows, nameof(perSampleKl), $"{rows}");
        RequireLength(dstats, 2L * rows * latent, nameof(dstats), $"{rows}x{2 * latent}");
        // Every row's weight reads every loss: a dstats written over an input would change what later rows read.
        RequireApart(stats, dstats, nameof(dstats));
        RequireApart(eps, dstats, nameof(dstats));
        RequireApart(perSampleLoss, dstats, nameof(dstats));
        RequireApart(perSampleKl, dstats, nameof(dstats));
        ScoreFunctionBackwardCore(stats, eps, perSampleLoss, perSampleKl, klWeight, baseline, rows, latent, dstats);
    }

    /// <summary>offset >= 0, and count columns from offset fit in columns.</summary>
    private static void RequireColumns(int columns, int offset, int count, string offsetName)
    {
        if (offset < 0 || (long)offset + count > columns)
            throw new ArgumentOutOfRangeException(offsetName, offset,
                $"{count} columns from {offsetName} {offset} do not fit a row of {columns} columns");
    }

    /// <summary>Throws when both views are windows of one buffer that share an element.</summary>
    private static void RequireApart<T>(DeviceView<T> a, DeviceView<T> b, string name) where T : unmanaged
    {
        if (ReferenceEquals(a.Buffer, b.Buffer) && a.Length > 0 && b.Length > 0
            && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length)
            throw new ArgumentException($"{name} {b} overlaps an input, {a}", name);
    }

    protected abstract void CopyColumnsCore(DeviceView<float> source, int rows, int sourceColumns, int sourceOffset,
        DeviceView<float> destination, int destinationColumns, int destinationOffset, int count);
    protected abstract void GatherOneHotCore(DeviceView<byte> labels, DeviceView<int> indices, int rows, int classes,
        DeviceView<float> destination, int destinationColumns, int destinationOffset);
    protected abstract void CorruptCore(Corruption corruption, DeviceView<float> clean, int rows, int height, int width, RandomSource random,
        DeviceView<float> corrupted);
    protected abstract void ScoreFunctionBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> perSampleLoss,
        DeviceView<float> perSampleKl, float klWeight, ScoreBaseline baseline, int rows, int latent, DeviceView<float> dstats);
}
