using IlgpuVae.Kernels;
using IlgpuVae.Model;
using MathNet.Numerics.Distributions;

namespace IlgpuVae.Training.Outputs;

/// <summary>
/// The latent space of a VAE from the outside: the encoder's posterior of images, the decoder's means
/// of given latent rows, and the points that interpolations, the 2-D manifold and traversals decode.
/// Encode and decode process the rows in chunks of the network's capacity.
/// </summary>
public static class LatentOutputs
{
    /// <summary>
    /// The encoder's posterior q(z|x) of the first count images (bytes 0..255, scaled to [0, 1] as the
    /// training does): its means and log-variances, each count x Latent. A hierarchical model's are
    /// those of z1 (q(z1 | x, z2) with z2 at its posterior mean), the latent its decoder takes. A
    /// conditional model encodes image i with its label labels[i].
    /// </summary>
    public static (float[] Means, float[] LogVariances) Encode(IVaeModel network, ReadOnlySpan<byte> pixels, int count,
        ReadOnlySpan<byte> labels = default, CancellationToken cancellation = default)
    {
        int input = network.Config.Input, latent = network.Config.Latent;
        if (count < 1 || (long)count * input > pixels.Length)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"need 1..{pixels.Length / input} images");
        var acc = network.Accelerator;
        var means = new float[(long)count * latent];
        var logVariances = new float[(long)count * latent];
        int chunkRows = network.Capacity;
        using var oneHot = ImageOutputs.OneHotBuffer(network, labels, count);
        using var x = acc.Allocate<float>(Math.Min(count, chunkRows) * input);
        var host = new float[Math.Min(count, chunkRows) * input];
        var stats = new float[Math.Min(count, chunkRows) * 2 * latent];
        for (int start = 0; start < count; start += chunkRows)
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(chunkRows, count - start);
            var chunk = pixels.Slice(start * input, rows * input);
            for (int i = 0; i < chunk.Length; i++) host[i] = chunk[i] * (1f / 255f);
            var xView = x.Slice(0, rows * input);
            acc.CopyFromHost<float>(host.AsSpan(0, rows * input), xView);
            var condition = oneHot is null ? default : oneHot.Slice(start * network.Config.Classes, rows * network.Config.Classes);
            acc.CopyToHost(network.EncodeStats(new VaeBatch(xView, Condition: condition), rows), stats.AsSpan(0, rows * 2 * latent));
            // Each row of the stats is (mu | logvar).
            for (int r = 0; r < rows; r++)
            {
                stats.AsSpan(r * 2 * latent, latent).CopyTo(means.AsSpan((start + r) * latent));
                stats.AsSpan(r * 2 * latent + latent, latent).CopyTo(logVariances.AsSpan((start + r) * latent));
            }
        }
        return (means, logVariances);
    }

    /// <summary>
    /// The decoder's mean images (count x Input) of count latent rows z (count x Latent). A conditional
    /// model decodes row i with labels[i].
    /// </summary>
    public static float[] Decode(IVaeModel network, ReadOnlySpan<float> z, int count, ReadOnlySpan<byte> labels = default,
        CancellationToken cancellation = default)
    {
        using var oneHot = ImageOutputs.OneHotBuffer(network, labels, count);
        return Decode(network, z, count, oneHot, cancellation);
    }

    /// <summary>
    /// The decoder's means of count latent rows with a conditional model's condition rows given as
    /// floats (count x Classes): a one-hot, or a blend of two (interpolation between classes).
    /// </summary>
    public static float[] DecodeWithConditions(IVaeModel network, ReadOnlySpan<float> z, int count, ReadOnlySpan<float> conditions,
        CancellationToken cancellation = default)
    {
        int classes = network.Config.Classes;
        if (classes == 0)
        {
            if (!conditions.IsEmpty) throw new ArgumentException("only a conditional model takes conditions", nameof(conditions));
            return Decode(network, z, count, (DeviceBuffer<float>?)null, cancellation);
        }
        if (conditions.Length != (long)count * classes)
            throw new ArgumentException($"{count} rows of {classes} classes need {(long)count * classes} condition values, got {conditions.Length}", nameof(conditions));
        using var buffer = network.Accelerator.Upload(conditions);
        return Decode(network, z, count, buffer, cancellation);
    }

    private static float[] Decode(IVaeModel network, ReadOnlySpan<float> z, int count, DeviceBuffer<float>? conditions, CancellationToken cancellation)
    {
        int input = network.Config.Input, latent = network.Config.Latent, classes = network.Config.Classes;
        if (count < 1 || z.Length != (long)count * latent)
            throw new ArgumentException($"{count} latent rows of {latent} need {(long)count * latent} values, got {z.Length}", nameof(z));
        if ((long)count * input > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{count} images of {input} values do not fit one array");
        var acc = network.Accelerator;
        var images = new float[(long)count * input];
        int chunkRows = network.Capacity;
        using var zBuffer = acc.Allocate<float>(Math.Min(count, chunkRows) * latent);
        for (int start = 0; start < count; start += chunkRows)
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(chunkRows, count - start);
            var zView = zBuffer.Slice(0, rows * latent);
            acc.CopyFromHost(z.Slice(start * latent, rows * latent), zView);
            var condition = conditions is null ? default : conditions.Slice(start * classes, rows * classes);
            acc.CopyToHost(network.DecodeMeans(zView, rows, condition), images.AsSpan(start * input, rows * input));
        }
        return images;
    }

    /// <summary>
    /// steps points from a to b (steps x L), t = k / (steps - 1) for k = 0..steps-1, so the first is a
    /// and the last b. Linear: (1 - t) a + t b. Spherical (Shoemake's slerp, as White's "Sampling
    /// Generative Networks" uses it for latent spaces): sin((1 - t) θ) / sin θ a + sin(t θ) / sin θ b with
    /// θ = arccos(a·b / (|a| |b|)), the angle between them; linear where θ is too small (or a or b is
    /// zero) for the quotient to mean anything.
    /// </summary>
    public static float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, bool spherical)
    {
        if (a.Length != b.Length) throw new ArgumentException($"the end points have {a.Length} and {b.Length} values", nameof(b));
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        int latent = a.Length;
        double dot = 0, normA = 0, normB = 0;
        for (int i = 0; i < latent; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
        }
        double cosine = normA > 0 && normB > 0 ? Math.Clamp(dot / Math.Sqrt(normA * normB), -1, 1) : 1;
        double theta = Math.Acos(cosine), sine = Math.Sin(theta);
        bool linear = !spherical || sine < 1e-6;
        var points = new float[steps * latent];
        for (int k = 0; k < steps; k++)
        {
            double t = (double)k / (steps - 1);
            double wa = linear ? 1 - t : Math.Sin((1 - t) * theta) / sine, wb = linear ? t : Math.Sin(t * theta) / sine;
            // The ends are the end points themselves, not their weighted sums rounded.
            for (int i = 0; i < latent; i++)
                points[k * latent + i] = k == 0 ? a[i] : k == steps - 1 ? b[i] : (float)(wa * a[i] + wb * b[i]);
        }
        return points;
    }

    /// <summary>
    /// The prior's quantiles Φ^-1((i + 0.5) / n), i = 0..n-1: n points that split N(0, 1) into equal
    /// masses, as Kingma and Welling's figure 4 spaces its grid.
    /// </summary>
    public static double[] PriorQuantiles(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return [.. Enumerable.Range(0, n).Select(i => Normal.InvCDF(0, 1, (i + 0.5) / n))];
    }

    /// <summary>
    /// The n x n grid of a 2-D latent space (n² x 2, row-major as the picture): column j has
    /// z[0] = q[j], increasing to the right, and row i has z[1] = q[n - 1 - i], decreasing downwards
    /// (up is positive, as in a plot), q the <see cref="PriorQuantiles"/>.
    /// </summary>
    public static float[] ManifoldGrid(int n)
    {
        double[] q = PriorQuantiles(n);
        var z = new float[2 * n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                z[2 * (i * n + j)] = (float)q[j];
                z[2 * (i * n + j) + 1] = (float)q[n - 1 - i];
            }
        return z;
    }

    /// <summary>
    /// A row of steps points for each dimension in dims (dims.Count * steps rows of L): the origin with
    /// that dimension set to -range + 2 range k / (steps - 1), k = 0..steps-1.
    /// </summary>
    public static float[] Traversal(ReadOnlySpan<float> origin, IReadOnlyList<int> dims, double range, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        int latent = origin.Length;
        var z = new float[(long)dims.Count * steps * latent];
        for (int row = 0; row < dims.Count; row++)
        {
            if ((uint)dims[row] >= (uint)latent) throw new ArgumentOutOfRangeException(nameof(dims), dims[row], $"dimensions are 0..{latent - 1}");
            for (int k = 0; k < steps; k++)
            {
                var point = z.AsSpan((row * steps + k) * latent, latent);
                origin.CopyTo(point);
                point[dims[row]] = (float)(-range + 2 * range * k / (steps - 1));
            }
        }
        return z;
    }
}
