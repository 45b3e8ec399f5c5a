using System.Numerics;

namespace IlgpuVae.Training.Evaluation;

/// <summary>How <see cref="SoftmaxClassifier.Train"/> fits: mini-batch Adam on the mean cross-entropy plus L2 / 2 ||W||^2.</summary>
public sealed record ClassifierOptions
{
    public int Epochs { get; init; } = 12;
    public int BatchSize { get; init; } = 100;

    /// <summary>Adam's step size; it decays linearly to a tenth over the epochs, so the last epochs settle instead of jittering.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>L2 penalty on the weights (not the biases).</summary>
    public double L2 { get; init; } = 1e-4;

    /// <summary>Key of the epoch shuffles, the only random draw (the weights start at zero).</summary>
    public int Seed { get; init; } = 1;

    public ClassifierOptions Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be >= 1 (got {Epochs})");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be >= 1 (got {BatchSize})");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"learning rate must be > 0 (got {LearningRate})");
        if (!(L2 >= 0) || double.IsInfinity(L2)) throw new ArgumentException($"L2 must be finite and >= 0 (got {L2})");
        return this;
    }
}

/// <summary>
/// Multinomial logistic regression on images: p(class | x) = softmax(W x + b), x the pixels in [0, 1].
/// It is the judge of a conditional VAE's fidelity: samples generated for class K are labelled by it and
/// the share labelled K is reported beside its accuracy on the real test set (about 0.84 on
/// Fashion-MNIST), which bounds what that share can mean. A linear model keeps the judge simple,
/// cheap and hard to fool by pixel noise that a deep classifier would overreact to.
///
/// Training is deterministic for a seed on one machine: the shuffle is System.Random(seed), each
/// logit is one dot product and each weight row's gradient one sum in sample order, whatever the
/// thread count (threads split samples for the logits and classes for the gradients, never a sum).
/// Vector&lt;float&gt; widths differ between machines, so the last bits may differ across them.
/// </summary>
public sealed class SoftmaxClassifier
{
    private readonly float[] _weights; // [classes, features], row-major
    private readonly float[] _bias;    // [classes]

    private SoftmaxClassifier(int features, int classes, float[] weights, float[] bias)
    {
        Features = features;
        Classes = classes;
        _weights = weights;
        _bias = bias;
    }

    public int Features { get; }
    public int Classes { get; }

    /// <summary>Pixels as features: byte / 255, the scaling the VAE trains on.</summary>
    public static float[] ToFeatures(ReadOnlySpan<byte> pixels)
    {
        var features = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) features[i] = pixels[i] * (1f / 255f);
        return features;
    }

    /// <param name="images">count x features, row-major, values in [0, 1].</param>
    /// <param name="labels">count labels in [0, classes).</param>
    public static SoftmaxClassifier Train(float[] images, byte[] labels, int count, int features, int classes, ClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        var o = (options ?? new ClassifierOptions()).Validate();
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one image is needed");
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "features must be > 0");
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "at least two classes are needed");
        CheckImages(images, count, features);
        if (labels.Length < count) throw new ArgumentException($"{labels.Length} labels for {count} images", nameof(labels));
        for (int i = 0; i < count; i++)
            if (labels[i] >= classes) throw new ArgumentException($"label {labels[i]} of image {i} is not below {classes} classes", nameof(labels));

        var model = new SoftmaxClassifier(features, classes, new float[classes * features], new float[classes]);
        var adam = new Adam(classes * features + classes);
        var gradW = new float[classes * features];
        var gradB = new float[classes];
        int batch = Math.Min(o.BatchSize, count);
        var delta = new float[batch * classes]; // softmax - one-hot, over the batch size
        int[] order = Enumerable.Range(0, count).ToArray();
        var random = new Random(o.Seed);
        int stepsPerEpoch = (count + batch - 1) / batch, totalSteps = o.Epochs * stepsPerEpoch, step = 0;

        for (int epoch = 0; epoch < o.Epochs; epoch++)
        {
            random.Shuffle(order);
            for (int start = 0; start < count; start += batch)
            {
                int rows = Math.Min(batch, count - start);
                float scale = 1f / rows;
                Parallel.For(0, rows, r =>
                {
                    int i = order[start + r];
                    var d = delta.AsSpan(r * classes, classes);
                    model.Probabilities(images.AsSpan(i * features, features), d);
                    d[labels[i]] -= 1f;
                    for (int c = 0; c < classes; c++) d[c] *= scale;
                });
                Parallel.For(0, classes, c =>
                {
                    var g = gradW.AsSpan(c * features, features);
                    var w = model._weights.AsSpan(c * features, features);
                    for (int j = 0; j < features; j++) g[j] = (float)o.L2 * w[j];
                    float bias = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        float d = delta[r * classes + c];
                        bias += d;
                        Axpy(d, images.AsSpan(order[start + r] * features, features), g);
                    }
                    gradB[c] = bias;
                });
                double rate = o.LearningRate * (1 - 0.9 * step / Math.Max(1, totalSteps - 1));
                adam.Step(model._weights, gradW, model._bias, gradB, rate);
                step++;
            }
        }
        return model;
    }

    /// <summary>The most probable class of each image (the lowest class on a tie).</summary>
    public int[] Predict(float[] images, int count)
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckImages(images, count, Features);
        var predictions = new int[count];
        Parallel.For(0, count, () => new float[Classes], (i, _, logits) =>
        {
            Logits(images.AsSpan(i * Features, Features), logits);
            int best = 0;
            for (int c = 1; c < Classes; c++) if (logits[c] > logits[best]) best = c;
            predictions[i] = best;
            return logits;
        }, _ => { });
        return predictions;
    }

    /// <summary>The share of images predicted as their label.</summary>
    public double Accuracy(float[] images, byte[] labels, int count)
    {
        int[] predicted = Predict(images, count);
        CheckLabels(labels, count);
        int correct = 0;
        for (int i = 0; i < count; i++) if (predicted[i] == labels[i]) correct++;
        return count == 0 ? double.NaN : (double)correct / count;
    }

    /// <summary>
    /// Per class, the share of that class's images predicted as it (the recall); NaN for a class with no
    /// image. Weighted by the class counts, the values average to <see cref="Accuracy"/>.
    /// </summary>
    public double[] AccuracyPerClass(float[] images, byte[] labels, int count)
    {
        int[] predicted = Predict(images, count);
        CheckLabels(labels, count);
        var correct = new int[Classes];
        var total = new int[Classes];
        for (int i = 0; i < count; i++)
        {
            if (labels[i] >= Classes) throw new ArgumentException($"label {labels[i]} of image {i} is not below {Classes} classes", nameof(labels));
            total[labels[i]]++;
            if (predicted[i] == labels[i]) correct[labels[i]]++;
        }
        return [.. correct.Select((c, k) => total[k] == 0 ? double.NaN : (double)c / total[k])];
    }

    /// <summary>The share of images predicted as classIndex: for samples a conditional model generated for that class.</summary>
    public double ShareClassifiedAs(float[] images, int count, int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, Classes);
        int[] predicted = Predict(images, count);
        return count == 0 ? double.NaN : (double)predicted.Count(p => p == classIndex) / count;
    }

    private void Logits(ReadOnlySpan<float> x, Span<float> logits)
    {
        for (int c = 0; c < Classes; c++) logits[c] = Dot(_weights.AsSpan(c * Features, Features), x) + _bias[c];
    }

    private void Probabilities(ReadOnlySpan<float> x, Span<float> p)
    {
        Logits(x, p);
        float max = float.NegativeInfinity;
        foreach (float v in p) max = Math.Max(max, v);
        float sum = 0;
        for (int c = 0; c < p.Length; c++) sum += p[c] = MathF.Exp(p[c] - max); // shifted: exp never overflows
        for (int c = 0; c < p.Length; c++) p[c] /= sum;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, w = Vector<float>.Count, j = 0;
        var acc = Vector<float>.Zero;
        for (; j <= n - w; j += w) acc += new Vector<float>(a[j..]) * new Vector<float>(b[j..]);
        float sum = Vector.Sum(acc);
        for (; j < n; j++) sum += a[j] * b[j];
        return sum;
    }

    private static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, w = Vector<float>.Count, j = 0;
        var a = new Vector<float>(alpha);
        for (; j <= n - w; j += w) (new Vector<float>(y[j..]) + a * new Vector<float>(x[j..])).CopyTo(y[j..]);
        for (; j < n; j++) y[j] += alpha * x[j];
    }

    private static void CheckImages(float[] images, int count, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((long)count * features > images.Length)
            throw new ArgumentException($"{count} images of {features} features need {(long)count * features} floats, got {images.Length}", nameof(images));
    }

    private static void CheckLabels(byte[] labels, int count)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length < count) throw new ArgumentException($"{labels.Length} labels for {count} images", nameof(labels));
    }

    /// <summary>Adam (Kingma and Ba) over the weights and the biases as one parameter vector.</summary>
    private sealed class Adam(int length)
    {
        private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
        private readonly float[] _m = new float[length], _v = new float[length];
        private int _t;

        public void Step(float[] weights, float[] gradW, float[] bias, float[] gradB, double rate)
        {
            _t++;
            double correction = Math.Sqrt(1 - Math.Pow(Beta2, _t)) / (1 - Math.Pow(Beta1, _t));
            float step = (float)(rate * correction);
            Update(weights, gradW, 0, step);
            Update(bias, gradB, weights.Length, step);
        }

        private void Update(float[] p, float[] g, int offset, float step)
        {
            for (int j = 0; j < p.Length; j++)
            {
                ref float m = ref _m[offset + j], v = ref _v[offset + j];
                m = (float)(Beta1 * m + (1 - Beta1) * g[j]);
                v = (float)(Beta2 * v + (1 - Beta2) * g[j] * g[j]);
                p[j] -= step * m / (MathF.Sqrt(v) + (float)Epsilon);
            }
        }
    }
}
