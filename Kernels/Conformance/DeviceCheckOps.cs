using System.Globalization;

namespace IlgpuVae.Kernels.Conformance;

public static partial class DeviceCheck
{
    // Tolerances of the mixed error measure (relative above 1, absolute below). A wrong kernel errs by
    // O(1); these leave room for other summation orders and a few ulps of exp, log, tanh and cos.
    private const double ElementwiseTolerance = 1e-5;
    private const double LossTolerance = 2e-5;
    private const double ColumnSumTolerance = 1e-4;
    private const double ReduceTolerance = 1e-5;
    private const double BinarizeMismatchTolerance = 1e-3;

    /// <summary>k products summed in float: the error bound grows with k.</summary>
    private static double GemmTolerance(int k) => 1e-5 + 2e-7 * k;

    private static IEnumerable<(string Name, double Tolerance, Func<DeviceCheckResult> Run)> Checks(CheckRun s)
    {
        yield return ("philox known answers (host)", 0, PhiloxHostKnownAnswers);
        // Only the ILGPU kernels expose raw Philox blocks; the CPU backend's draws are Philox.Block itself.
        if (s.Device is Ilgpu.IlgpuAccelerator kernels)
            yield return ("philox known answers (device)", 0, () => PhiloxDeviceKnownAnswers(s, kernels));
        yield return ("sampling eps vs Philox.Normal", ElementwiseTolerance, () => SamplingEps(s));
        yield return ("copy host-device-host", 0, () => CopyRoundTrip(s));

        foreach (var (ta, tb) in new[] { (Transpose.N, Transpose.N), (Transpose.N, Transpose.T), (Transpose.T, Transpose.N), (Transpose.T, Transpose.T) })
        foreach (var (m, n, k) in new[] { (7, 5, 3), (67, 93, 130) })
            yield return Gemm(s, ta, tb, m, n, k, 0.75f, 0.5f, Activation.Identity, bias: false);
        // The VAE's own shapes: decoder output with bias + sigmoid, its input gradient, its weight gradient.
        yield return Gemm(s, Transpose.N, Transpose.T, 128, 784, 400, 1f, 0f, Activation.Sigmoid, bias: true);
        yield return Gemm(s, Transpose.N, Transpose.N, 128, 400, 784, 1f, 0f, Activation.Identity, bias: false);
        yield return Gemm(s, Transpose.T, Transpose.N, 784, 400, 128, 1f, 1f, Activation.Identity, bias: false);
        foreach (var activation in Enum.GetValues<Activation>())
            yield return Gemm(s, Transpose.N, Transpose.N, 33, 70, 48, 1f, 0f, activation, bias: true);
        yield return Gemm(s, Transpose.T, Transpose.T, 6, 9, 5, 1.5f, 0f, Activation.LeakyRelu, bias: true);

        foreach (var activation in Enum.GetValues<Activation>())
        {
            yield return ($"activation forward {activation}", ElementwiseTolerance, () => ActivationForward(s, activation));
            yield return ($"activation backward {activation}", ElementwiseTolerance, () => ActivationBackward(s, activation));
        }
        yield return ("bias gradient 129x401", ColumnSumTolerance, () => BiasGradient(s, 129, 401));
        yield return ("sampling forward", ElementwiseTolerance, () => SamplingForward(s));
        yield return ("sampling backward", ElementwiseTolerance, () => SamplingBackward(s));
        yield return ("loss bernoulli", LossTolerance, () => Loss(s, new LossSettings(Likelihood.Bernoulli, 1f)));
        yield return ("loss gaussian sigma 0.7 beta 0.5", LossTolerance, () => Loss(s, new LossSettings(Likelihood.Gaussian, 0.5f, 0.7f)));
        yield return ("adam", ElementwiseTolerance, () => Adam(s, "adam", AdamSettings.Default));
        yield return ("adam L2 weight decay", ElementwiseTolerance, () => Adam(s, "adam L2 weight decay", AdamSettings.Default with { WeightDecay = 0.01f }));
        yield return ("adamw", ElementwiseTolerance, () => Adam(s, "adamw", AdamSettings.Default with { WeightDecay = 0.01f, Decoupled = true }));
        yield return ("gather", 1e-6, () => Gather(s));
        yield return ("gather binarized", BinarizeMismatchTolerance, () => GatherBinarized(s));
        foreach (int length in new[] { 1, 1000, 100003 })
            yield return ($"reduce sum {length}", ReduceTolerance, () => ReduceSum(s, length));
        yield return ("fill", 0, () => Fill(s));
        yield return ("copy columns", 0, () => CopyColumns(s));
        yield return ("gather one-hot", 0, () => GatherOneHot(s));
        foreach (string corruption in new[] { "none", "gaussian:0.3", "salt-pepper:0.2", "mask:0.4", "downsample:3" })
        {
            var parsed = Corruption.Parse(corruption);
            // Uniforms are exact on every device; normals and block means meet a few ulps of exp, log, cos and division.
            double tolerance = parsed.Kind is CorruptionKind.Gaussian or CorruptionKind.Downsample ? ElementwiseTolerance : 0;
            yield return ($"corrupt {corruption}", tolerance, () => Corrupt(s, parsed, tolerance));
        }
        yield return ("score function backward", LossTolerance, () => ScoreFunctionBackward(s, ScoreBaseline.None));
        yield return ("score function backward leave-one-out", LossTolerance, () => ScoreFunctionBackward(s, ScoreBaseline.LeaveOneOut));
        yield return ("gaussian kl", LossTolerance, () => GaussianKl(s, extremes: false));
        yield return ("gaussian kl extreme logvars", LossTolerance, () => GaussianKl(s, extremes: true));
        yield return ("precision merge", ElementwiseTolerance, () => PrecisionMerge(s));
        yield return ("precision merge backward", ElementwiseTolerance, () => PrecisionMergeBackward(s));
        yield return ("logistic loss target 1", LossTolerance, () => LogisticLoss(s, "logistic loss target 1", 1f, 1f));
        yield return ("logistic loss target 0", LossTolerance, () => LogisticLoss(s, "logistic loss target 0", 0f, 1f));
        yield return ("logistic loss target 0 scale -1", LossTolerance, () => LogisticLoss(s, "logistic loss target 0 scale -1", 0f, -1f));
        yield return ("logistic loss target 0.9 scale 0.5", LossTolerance, () => LogisticLoss(s, "logistic loss target 0.9 scale 0.5", 0.9f, 0.5f));
        foreach (var shape in ConvolutionCheckShapes)
        {
            // Im2Col only moves values; Col2Im's sums have a fixed order, so a few ulps are already generous.
            yield return ($"im2col {shape}", 0, () => Im2Col(s, shape));
            yield return ($"col2im {shape}", ElementwiseTolerance, () => Col2Im(s, shape));
        }
        foreach (var activation in Enum.GetValues<Activation>())
            yield return ($"bias activation {activation}", ElementwiseTolerance, () => BiasActivation(s, activation));
    }

    private static DeviceCheckResult PhiloxHostKnownAnswers()
    {
        int wrong = 0;
        foreach (var (counter, key, expected) in KnownAnswers)
        {
            var (r0, r1, r2, r3) = Philox.Block(counter[0], counter[1], counter[2], counter[3], key[0], key[1]);
            wrong += (r0 != expected[0] ? 1 : 0) + (r1 != expected[1] ? 1 : 0) + (r2 != expected[2] ? 1 : 0) + (r3 != expected[3] ? 1 : 0);
        }
        return new DeviceCheckResult("philox known answers (host)", wrong == 0, wrong, 0,
            wrong == 0 ? "Random123 kat_vectors" : $"{wrong} of {4 * KnownAnswers.Length} words differ from Random123");
    }

    /// <summary>The Random123 vectors plus random blocks, on the device, against Philox.Block word for word.</summary>
    private static DeviceCheckResult PhiloxDeviceKnownAnswers(CheckRun s, Ilgpu.IlgpuAccelerator device)
    {
        var rng = s.NextRandom();
        int blocks = KnownAnswers.Length + 61;
        var counters = new uint[4 * blocks];
        var keys = new uint[2 * blocks];
        for (int b = 0; b < blocks; b++)
        {
            for (int w = 0; w < 4; w++) counters[4 * b + w] = b < KnownAnswers.Length ? KnownAnswers[b].Counter[w] : (uint)rng.NextInt64(0, 1L << 32);
            for (int w = 0; w < 2; w++) keys[2 * b + w] = b < KnownAnswers.Length ? KnownAnswers[b].Key[w] : (uint)rng.NextInt64(0, 1L << 32);
        }
        using var c = device.Upload<uint>(counters);
        using var k = device.Upload<uint>(keys);
        using var o = device.Allocate<uint>(counters.Length);
        device.PhiloxBlocks(c, k, o);
        uint[] words = device.Download(o.View);
        int wrong = 0, first = -1;
        for (int b = 0; b < blocks; b++)
        {
            var (r0, r1, r2, r3) = Philox.Block(counters[4 * b], counters[4 * b + 1], counters[4 * b + 2], counters[4 * b + 3], keys[2 * b], keys[2 * b + 1]);
            uint[] expected = b < KnownAnswers.Length ? KnownAnswers[b].Expected : [r0, r1, r2, r3];
            for (int w = 0; w < 4; w++)
                if (words[4 * b + w] != expected[w] && wrong++ == 0) first = 4 * b + w;
        }
        return new DeviceCheckResult("philox known answers (device)", wrong == 0, wrong, 0,
            wrong == 0 ? $"{blocks} blocks" : $"{wrong} words differ; first at word {first}: got {words[first]:x8}");
    }

    private static DeviceCheckResult SamplingEps(CheckRun s)
    {
        const int rows = 37, latent = 23; // 851 elements: the last Philox group is partial
        var rng = s.NextRandom();
        var random = s.Source(step: 7, RandomStream.Latent);
        using var stats = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -2f, 2f));
        using var eps = s.Put(new float[rows * latent]);
        using var z = s.Put(new float[rows * latent]);
        s.Device.SampleLatent(stats.D, rows, latent, random, eps.D, z.D);
        var expected = new float[rows * latent];
        for (int e = 0; e < expected.Length; e++) expected[e] = Philox.Normal(e, random);
        return Compare("sampling eps vs Philox.Normal", expected, s.Device.Download(eps.D), ElementwiseTolerance);
    }

    private static DeviceCheckResult CopyRoundTrip(CheckRun s)
    {
        var data = CheckRun.Uniform(s.NextRandom(), 4099, -1f, 1f);
        using var source = s.Put(data);
        using var target = s.Put(new float[data.Length + 2]);
        s.Device.Copy(source.D, target.D.Slice(2, data.Length));
        var expected = new float[data.Length + 2];
        data.CopyTo(expected, 2);
        return Compare("copy host-device-host", expected, s.Device.Download(target.D), 0);
    }

    private static (string, double, Func<DeviceCheckResult>) Gemm(CheckRun s, Transpose ta, Transpose tb, int m, int n, int k,
        float alpha, float beta, Activation activation, bool bias)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"gemm {ta}{tb} {m}x{n}x{k} alpha {alpha} beta {beta}")
            + (bias ? $" + bias {activation}" : "");
        double tolerance = GemmTolerance(k);
        return (name, tolerance, () =>
        {
            var rng = s.NextRandom();
            using var a = s.Put(CheckRun.Uniform(rng, m * k, -1f, 1f));
            using var b = s.Put(CheckRun.Uniform(rng, k * n, -1f, 1f));
            // With beta 0 the contract says C is not read: NaN there must not leak into the result.
            using var c = s.Put(beta == 0 ? Enumerable.Repeat(float.NaN, m * n).ToArray() : CheckRun.Uniform(rng, m * n, -1f, 1f));
            using var biasValues = s.Put(CheckRun.Uniform(rng, n, -0.5f, 0.5f));
            var onDevice = bias ? Epilogue.WithBias(biasValues.D, activation, 0.1f) : Epilogue.None;
            var onReference = bias ? Epilogue.WithBias(biasValues.R, activation, 0.1f) : Epilogue.None;
            s.Device.Gemm(ta, tb, m, n, k, alpha, a.D, b.D, beta, c.D, onDevice);
            s.Reference.Gemm(ta, tb, m, n, k, alpha, a.R, b.R, beta, c.R, onReference);
            return s.Same(name, c, tolerance);
        });
    }

    private static DeviceCheckResult ActivationForward(CheckRun s, Activation activation)
    {
        using var x = s.Put(CheckRun.Uniform(s.NextRandom(), 1031, -6f, 6f));
        using var y = s.Put(new float[x.Length]);
        s.Device.ActivationForward(activation, x.D, y.D, 0.05f);
        s.Reference.ActivationForward(activation, x.R, y.R, 0.05f);
        return s.Same($"activation forward {activation}", y, ElementwiseTolerance);
    }

    private static DeviceCheckResult ActivationBackward(CheckRun s, Activation activation)
    {
        var rng = s.NextRandom();
        // Derivatives are functions of the forward output, so y must be a possible output of the activation.
        using var x = s.Reference.Upload<float>(CheckRun.Uniform(rng, 1031, -6f, 6f));
        using var forward = s.Reference.Allocate<float>(x.Length);
        s.Reference.ActivationForward(activation, x, forward, 0.05f);
        using var y = s.Put(s.Reference.Download(forward.View));
        using var dy = s.Put(CheckRun.Uniform(rng, x.Length, -1f, 1f));
        using var dx = s.Put(new float[x.Length]);
        s.Device.ActivationBackward(activation, y.D, dy.D, dx.D, 0.05f);
        s.Reference.ActivationBackward(activation, y.R, dy.R, dx.R, 0.05f);
        return s.Same($"activation backward {activation}", dx, ElementwiseTolerance);
    }

    private static DeviceCheckResult BiasGradient(CheckRun s, int rows, int cols)
    {
        using var dy = s.Put(CheckRun.Uniform(s.NextRandom(), rows * cols, -1f, 1f));
        using var dbias = s.Put(new float[cols]);
        s.Device.BiasGradient(dy.D, rows, cols, dbias.D);
        s.Reference.BiasGradient(dy.R, rows, cols, dbias.R);
        return s.Same($"bias gradient {rows}x{cols}", dbias, ColumnSumTolerance);
    }

    private static DeviceCheckResult SamplingForward(CheckRun s)
    {
        const int rows = 41, latent = 20;
        var random = s.Source(step: 3, RandomStream.Evaluation);
        using var stats = s.Put(CheckRun.Uniform(s.NextRandom(), 2 * rows * latent, -3f, 3f));
        using var eps = s.Put(new float[rows * latent]);
        using var z = s.Put(new float[rows * latent]);
        s.Device.SampleLatent(stats.D, rows, latent, random, eps.D, z.D);
        s.Reference.SampleLatent(stats.R, rows, latent, random, eps.R, z.R);
        return Combine("sampling forward", s.Same("eps", eps, ElementwiseTolerance), s.Same("z", z, ElementwiseTolerance));
    }

    private static DeviceCheckResult SamplingBackward(CheckRun s)
    {
        const int rows = 41, latent = 20;
        var rng = s.NextRandom();
        using var stats = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -3f, 3f));
        using var eps = s.Put(CheckRun.Uniform(rng, rows * latent, -3f, 3f));
        using var dz = s.Put(CheckRun.Uniform(rng, rows * latent, -1f, 1f));
        using var dstats = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -1f, 1f)); // accumulated into
        s.Device.SampleLatentBackward(stats.D, eps.D, dz.D, rows, latent, dstats.D);
        s.Reference.SampleLatentBackward(stats.R, eps.R, dz.R, rows, latent, dstats.R);
        return s.Same("sampling backward", dstats, ElementwiseTolerance);
    }

    private static DeviceCheckResult Loss(CheckRun s, LossSettings settings)
    {
        const int rows = 33, features = 784, latent = 20;
        var rng = s.NextRandom();
        var logitValues = CheckRun.Uniform(rng, rows * features, -8f, 8f);
        for (int i = 0; i < logitValues.Length; i += 97) logitValues[i] = i % 2 == 0 ? 100f : -100f; // the stable form's extremes
        using var logits = s.Put(logitValues);
        using var x = s.Put(CheckRun.Uniform(rng, rows * features, 0f, 1f));
        using var stats = s.Put(CheckRun.Uniform(rng, 2 * rows * latent, -3f, 3f));
        using var loss = s.Put(new float[rows]);
        using var dlogits = s.Put(new float[rows * features]);
        using var dstats = s.Put(new float[2 * rows * latent]);
        using var kl = s.Put(new float[rows]);
        s.Device.VaeLoss(settings, logits.D, x.D, stats.D, rows, features, latent, loss.D, dlogits.D, dstats.D, kl.D);
        s.Reference.VaeLoss(settings, logits.R, x.R, stats.R, rows, features, latent, loss.R, dlogits.R, dstats.R, kl.R);
        string name = settings.Likelihood == Likelihood.Bernoulli ? "loss bernoulli" : "loss gaussian sigma 0.7 beta 0.5";
        return Combine(name, s.Same("loss", loss, LossTolerance), s.Same("dlogits", dlogits, LossTolerance),
            s.Same("dstats", dstats, LossTolerance), s.Same("kl", kl, LossTolerance));
    }

    private static DeviceCheckResult Adam(CheckRun s, string name, AdamSettings settings)
    {
        const int length = 10007, step = 3;
        var rng = s.NextRandom();
        using var p = s.Put(CheckRun.Uniform(rng, length, -1f, 1f));
        using var g = s.Put(CheckRun.Uniform(rng, length, -0.1f, 0.1f));
        using var m = s.Put(CheckRun.Uniform(rng, length, -0.01f, 0.01f));
        using var v = s.Put(CheckRun.Uniform(rng, length, 0f, 1e-4f));
        s.Device.Adam(settings, step, p.D, g.D, m.D, v.D);
        s.Reference.Adam(settings, step, p.R, g.R, m.R, v.R);
        return Combine(name, s.Same("parameters", p, ElementwiseTolerance), s.Same("m", m, ElementwiseTolerance), s.Same("v", v, ElementwiseTolerance));
    }

    private static (Operand<byte> Data, Operand<int> Indices) GatherInputs(CheckRun s, Random rng, int samples, int features, int rows)
    {
        var bytes = new byte[samples * features];
        rng.NextBytes(bytes);
        var indices = new int[rows];
        for (int i = 0; i < rows; i++) indices[i] = rng.Next(samples);
        var data = s.Put(bytes, (byte)0);
        try { return (data, s.Put(indices, -1)); }
        catch { data.Dispose(); throw; }
    }

    private static DeviceCheckResult Gather(CheckRun s)
    {
        const int samples = 61, features = 97, rows = 45;
        var (data, indices) = GatherInputs(s, s.NextRandom(), samples, features, rows);
        using (data)
        using (indices)
        {
            using var output = s.Put(new float[rows * features]);
            var random = s.Source(step: 5, RandomStream.Binarize);
            s.Device.GatherBatch(data.D, features, indices.D, rows, output.D, binarize: false, random);
            s.Reference.GatherBatch(data.R, features, indices.R, rows, output.R, binarize: false, random);
            return s.Same("gather", output, 1e-6);
        }
    }

    /// <summary>
    /// Binarised values are 0 or 1 and may flip only where the uniform and the pixel are within an ulp
    /// of each other, so the measure is the fraction of values that differ from the reference.
    /// </summary>
    private static DeviceCheckResult GatherBinarized(CheckRun s)
    {
        const int samples = 50, features = 784, rows = 64;
        var (data, indices) = GatherInputs(s, s.NextRandom(), samples, features, rows);
        using (data)
        using (indices)
        {
            using var output = s.Put(new float[rows * features]);
            var random = s.Source(step: 11, RandomStream.Binarize);
            s.Device.GatherBatch(data.D, features, indices.D, rows, output.D, binarize: true, random);
            s.Reference.GatherBatch(data.R, features, indices.R, rows, output.R, binarize: true, random);
            float[] expected = s.Reference.Download(output.R), actual = s.Device.Download(output.D);
            int differ = 0, notBinary = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                if (actual[i] != expected[i]) differ++;
                if (actual[i] is not (0f or 1f)) notBinary++;
            }
            double fraction = (double)differ / expected.Length;
            bool passed = fraction <= BinarizeMismatchTolerance && notBinary == 0;
            return new DeviceCheckResult("gather binarized", passed, fraction, BinarizeMismatchTolerance,
                notBinary > 0 ? $"{notBinary} values are neither 0 nor 1" : $"{differ} of {expected.Length} values differ");
        }
    }

    private static DeviceCheckResult ReduceSum(CheckRun s, int length)
    {
        var values = CheckRun.Uniform(s.NextRandom(), length, -1f, 1f);
        using var input = s.Put(values);
        using var result = s.Put(new float[1]);
        s.Device.ReduceSum(input.D, result.D);
        s.Reference.ReduceSum(input.R, result.R);
        // Relative to the sum of magnitudes: a signed sum may cancel to near zero.
        double magnitude = values.Sum(v => (double)Math.Abs(v));
        return s.Same($"reduce sum {length}", result, ReduceTolerance, floor: Math.Max(1.0, magnitude));
    }

    private static DeviceCheckResult Fill(CheckRun s)
    {
        using var values = s.Put(CheckRun.Uniform(s.NextRandom(), 1001, -1f, 1f));
        s.Device.Fill(values.D.Slice(1, 999), -2.5f);
        s.Reference.Fill(values.R.Slice(1, 999), -2.5f);
        return s.Same("fill", values, 0);
    }

    /// <summary>Random123's kat_vectors for philox4x32_10.</summary>
    private static readonly (uint[] Counter, uint[] Key, uint[] Expected)[] KnownAnswers =
    [
        ([0u, 0u, 0u, 0u], [0u, 0u], [0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u]),
        ([0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu], [0xffffffffu, 0xffffffffu], [0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu]),
        ([0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u], [0xa4093822u, 0x299f31d0u], [0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u]),
    ];
}
