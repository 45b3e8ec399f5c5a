using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training.Evaluation;

/// <summary>A mean over images and its standard error (the sample standard deviation over sqrt(images)).</summary>
public readonly record struct MeanWithError(double Mean, double StandardError)
{
    public static MeanWithError Of(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        if (n == 0) return new(double.NaN, double.NaN);
        double mean = 0;
        foreach (double v in values) mean += v;
        mean /= n;
        if (n == 1) return new(mean, double.NaN);
        double squares = 0;
        foreach (double v in values) squares += (v - mean) * (v - mean);
        return new(mean, Math.Sqrt(squares / (n - 1) / n));
    }
}

/// <summary>The importance-sampled estimate with the first <paramref name="Samples"/> samples of every image.</summary>
public sealed record LikelihoodEstimate(int Samples, MeanWithError NegativeLogLikelihood, double[] PerImage);

/// <summary>
/// What <see cref="ImportanceSampledLikelihood.Evaluate"/> measured, in nats per image: the negative ELBO of
/// the first sample and averaged over all K samples, and −log p(x) estimated with K' = 1, 10, 100, ... up to K
/// samples (nested: each K' uses the first K' samples of the same draws).
/// </summary>
public sealed record ImportanceSamplingResult(int Images, int Samples, bool Binarized, MeanWithError NegativeElboOneSample,
    MeanWithError NegativeElboAveraged, IReadOnlyList<LikelihoodEstimate> Estimates);

/// <summary>
/// The importance-sampled log-likelihood of Burda, Grosse and Salakhutdinov ("Importance Weighted
/// Autoencoders", 2016): log p(x) ≈ logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] − log K, z_k ~ q(z|x).
///
/// Everything runs on the accelerator: images are encoded a group at a time; for each range of sample
/// indices, every image's posterior and pixels are repeated over that range as rows of one forward (a GEMM
/// by a 0/1 indicator matrix: exact, and no op of its own), the decoder runs on all the rows, the contract's
/// ImportanceWeights gives each row's log weight and negative ELBO, and LogSumExpRows folds the range into
/// each image's running (max, sum), so K is consumed in chunks of any size. The ranges end at K' = 1, 10,
/// 100, ... where the running state is read back for the nested estimates.
///
/// Draws are counter-based and keyed by the image, not the batch: sample k of image i takes eps from Philox
/// (seed, step i, stream ImportanceSampling) at elements k*latent.., so the numbers do not depend on
/// --batch, on the group size or on the device's chunking.
/// </summary>
public sealed class ImportanceSampledLikelihood : IDisposable
{
    /// <summary>Images encoded together; the repeat GEMMs cost in proportion to it, so it stays small.</summary>
    public const int DefaultImagesPerGroup = 100;

    private readonly Accelerator _acc;
    private readonly VaeNetwork _network;
    private readonly int _rowsPerForward, _imagesPerGroup, _features, _latent;
    private readonly DeviceBuffer<float> _xGroup, _statsGroup, _xRepeated, _statsRepeated, _eps, _z, _logWeights, _negativeElbo,
        _ones, _runningMax, _runningSum, _elboSum;
    private readonly Dictionary<(int Images, int Samples), DeviceBuffer<float>> _indicators = [];

    /// <param name="rowsPerForward">The most sample rows one decoder forward takes (memory grows with it).</param>
    public ImportanceSampledLikelihood(Accelerator accelerator, VaeConfig config, ReadOnlySpan<float> parameters, int rowsPerForward,
        int imagesPerGroup = DefaultImagesPerGroup)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (rowsPerForward <= 0) throw new ArgumentOutOfRangeException(nameof(rowsPerForward), rowsPerForward, "rows per forward must be > 0");
        if (imagesPerGroup <= 0) throw new ArgumentOutOfRangeException(nameof(imagesPerGroup), imagesPerGroup, "images per group must be > 0");
        if (config.Kind != ModelKind.Mlp)
            throw new ArgumentException($"importance-sampled likelihoods are computed for mlp models; this is a {ModelKinds.Of(config.Kind).Name} model");
        _acc = accelerator;
        _rowsPerForward = rowsPerForward;
        _imagesPerGroup = Math.Min(imagesPerGroup, rowsPerForward);
        _features = config.Input;
        _latent = config.Latent;
        _network = new VaeNetwork(accelerator, config, rowsPerForward, parameters);
        _xGroup = accelerator.Allocate<float>(_imagesPerGroup * _features);
        _statsGroup = accelerator.Allocate<float>(_imagesPerGroup * 2 * _latent);
        _xRepeated = accelerator.Allocate<float>(rowsPerForward * _features);
        _statsRepeated = accelerator.Allocate<float>(rowsPerForward * 2 * _latent);
        _eps = accelerator.Allocate<float>(rowsPerForward * _latent);
        _z = accelerator.Allocate<float>(rowsPerForward * _latent);
        _logWeights = accelerator.Allocate<float>(rowsPerForward);
        _negativeElbo = accelerator.Allocate<float>(rowsPerForward);
        _ones = accelerator.Allocate<float>(rowsPerForward);
        accelerator.Fill(_ones, 1f);
        _runningMax = accelerator.Allocate<float>(_imagesPerGroup);
        _runningSum = accelerator.Allocate<float>(_imagesPerGroup);
        _elboSum = accelerator.Allocate<float>(_imagesPerGroup);
    }

    public VaeConfig Config => _network.Config;

    /// <summary>The nested sample counts reported for K samples: 1, 10, 100, ... below K, then K.</summary>
    public static int[] Checkpoints(int samples)
    {
        var result = new List<int>();
        for (long k = 1; k < samples; k *= 10) result.Add((int)k);
        result.Add(samples);
        return [.. result];
    }

    /// <summary>
    /// Estimates over the first <paramref name="count"/> images of <paramref name="pixels"/> (uint8, Input
    /// bytes an image) with <paramref name="samples"/> samples each. With binarize, each image is binarised
    /// once (Philox, stream ImportanceBinarize, keyed by seed) and that binary image is what every sample
    /// scores. progress, when given, hears the images done after each group.
    /// </summary>
    public ImportanceSamplingResult Evaluate(ReadOnlySpan<byte> pixels, int count, int samples, ulong seed, bool binarize,
        CancellationToken cancellation = default, Action<int>? progress = null)
    {
        if (count <= 0 || (long)count * _features > pixels.Length)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in 1..{pixels.Length / _features}");
        if (samples <= 0) throw new ArgumentOutOfRangeException(nameof(samples), samples, "samples must be > 0");
        int[] checkpoints = Checkpoints(samples);
        var perCheckpoint = checkpoints.Select(_ => new double[count]).ToArray();
        var elboOne = new double[count];
        var elboAveraged = new double[count];

        using var data = _acc.Upload(pixels[..(count * _features)]);
        using var indices = _acc.Upload<int>(Enumerable.Range(0, count).ToArray());
        var settings = Config.LossSettings;
        var maxHost = new float[_imagesPerGroup];
        var sumHost = new float[_imagesPerGroup];
        var elboHost = new float[_imagesPerGroup];

        for (int first = 0; first < count; first += _imagesPerGroup)
        {
            cancellation.ThrowIfCancellationRequested();
            int images = Math.Min(_imagesPerGroup, count - first);
            var x = _xGroup.Slice(0, images * _features);
            var stats = _statsGroup.Slice(0, images * 2 * _latent);
            // The binarisation is keyed by the image's elements, so it does not depend on the group size.
            _acc.GatherBatch(data, _features, indices.Slice(first, images), images, x, binarize,
                new RandomSource(seed, 0, RandomStream.ImportanceBinarize, (uint)(first * _features)));
            _acc.Copy(_network.EncodeStats(x, images), stats);
            _acc.Fill(_runningMax.Slice(0, images), float.NegativeInfinity);
            _acc.Fill(_runningSum.Slice(0, images), 0f);
            _acc.Fill(_elboSum.Slice(0, images), 0f);

            int start = 0, next = 0;
            while (start < samples)
            {
                int end = Math.Min(checkpoints[next], start + _rowsPerForward);
                ScoreRange(settings, seed, first, images, start, end);
                start = end;
                if (end != checkpoints[next]) continue;
                _acc.CopyToHost(_runningMax.Slice(0, images), maxHost.AsSpan(0, images));
                _acc.CopyToHost(_runningSum.Slice(0, images), sumHost.AsSpan(0, images));
                for (int i = 0; i < images; i++)
                    perCheckpoint[next][first + i] = -(maxHost[i] + Math.Log(sumHost[i]) - Math.Log(end));
                if (end == 1)
                {
                    _acc.CopyToHost(_elboSum.Slice(0, images), elboHost.AsSpan(0, images));
                    for (int i = 0; i < images; i++) elboOne[first + i] = elboHost[i];
                }
                next++;
            }
            _acc.CopyToHost(_elboSum.Slice(0, images), elboHost.AsSpan(0, images));
            for (int i = 0; i < images; i++) elboAveraged[first + i] = elboHost[i] / (double)samples;
            progress?.Invoke(first + images);
        }

        var estimates = checkpoints.Select((k, j) => new LikelihoodEstimate(k, MeanWithError.Of(perCheckpoint[j]), perCheckpoint[j])).ToArray();
        return new ImportanceSamplingResult(count, samples, binarize, MeanWithError.Of(elboOne), MeanWithError.Of(elboAveraged), estimates);
    }

    /// <summary>Samples [start, end) of the group's images: repeat, sample, decode, weigh, fold into the running state.</summary>
    private void ScoreRange(LossSettings settings, ulong seed, int firstImage, int images, int start, int end)
    {
        int width = end - start, latent = _latent, features = _features;
        int perForward = Math.Clamp(_rowsPerForward / width, 1, images);
        for (int b0 = 0; b0 < images; b0 += perForward)
        {
            int n = Math.Min(perForward, images - b0), rows = n * width;
            var stats = _statsGroup.Slice(b0 * 2 * latent, n * 2 * latent);
            var x = _xGroup.Slice(b0 * features, n * features);
            DeviceView<float> statsRows = stats, xRows = x;
            if (width > 1)
            {
                var indicator = Indicator(n, width);
                statsRows = _statsRepeated.Slice(0, rows * 2 * latent);
                xRows = _xRepeated.Slice(0, rows * features);
                _acc.Gemm(Transpose.N, Transpose.N, rows, 2 * latent, n, 1f, indicator, stats, 0f, statsRows);
                _acc.Gemm(Transpose.N, Transpose.N, rows, features, n, 1f, indicator, x, 0f, xRows);
            }
            var eps = _eps.Slice(0, rows * latent);
            var z = _z.Slice(0, rows * latent);
            for (int b = 0; b < n; b++)
                _acc.SampleLatent(statsRows.Slice(b * width * 2 * latent, width * 2 * latent), width, latent,
                    new RandomSource(seed, (uint)(firstImage + b0 + b), RandomStream.ImportanceSampling, (uint)(start * latent)),
                    eps.Slice(b * width * latent, width * latent), z.Slice(b * width * latent, width * latent));
            var logits = _network.DecodeLogits(z, rows);
            var logWeights = _logWeights.Slice(0, rows);
            var negativeElbo = _negativeElbo.Slice(0, rows);
            _acc.ImportanceWeights(settings, logits, xRows, statsRows, eps, z, rows, features, latent, logWeights, negativeElbo);
            _acc.LogSumExpRows(logWeights, n, width, _runningMax.Slice(b0, n), _runningSum.Slice(b0, n));
            // Row sums of the n x width negative ELBOs, added to each image's running sum (beta = 1 accumulates).
            _acc.Gemm(Transpose.N, Transpose.N, n, 1, width, 1f, negativeElbo, _ones.Slice(0, width), 1f, _elboSum.Slice(b0, n));
        }
    }

    /// <summary>The (images * samples) x images 0/1 matrix whose row r picks image r / samples.</summary>
    private DeviceBuffer<float> Indicator(int images, int samples)
    {
        if (_indicators.TryGetValue((images, samples), out var cached)) return cached;
        var host = new float[images * samples * images];
        for (int r = 0; r < images * samples; r++) host[r * images + r / samples] = 1f;
        var buffer = _acc.Upload<float>(host);
        _indicators[(images, samples)] = buffer;
        return buffer;
    }

    public void Dispose()
    {
        foreach (var buffer in _indicators.Values) buffer.Dispose();
        _indicators.Clear();
        foreach (var buffer in (DeviceBuffer<float>[])[_xGroup, _statsGroup, _xRepeated, _statsRepeated, _eps, _z, _logWeights, _negativeElbo,
                     _ones, _runningMax, _runningSum, _elboSum])
            buffer.Dispose();
        _network.Dispose();
    }
}
