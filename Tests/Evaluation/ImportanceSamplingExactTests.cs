using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Evaluation;

namespace IlgpuVae.Tests.Evaluation;

/// <summary>
/// The importance-sampled estimate against log p(x) computed exactly: a VAE of 2x2-pixel images, three
/// hidden units and one latent dimension, whose marginal likelihood p(x) = ∫ N(z; 0, 1) p(x|z) dz the test
/// integrates by quadrature in double precision with its own decoder. The encoder is deliberately poor
/// (small random weights), so the ELBO lies below log p(x) and only a correct estimator closes the gap.
/// </summary>
[TestClass]
public sealed class ImportanceSamplingExactTests
{
    [TestMethod]
    [DataRow(Likelihood.Bernoulli, 1f, "cpu")]
    [DataRow(Likelihood.Gaussian, 0.6f, "cpu")]
    [DataRow(Likelihood.Bernoulli, 1f, "ilgpu-cpu")]
    public void EstimateWithManySamplesMatchesQuadrature(Likelihood likelihood, float sigma, string device)
    {
        var config = new VaeConfig
        {
            Input = 4, Hidden = [3], Latent = 1, Likelihood = likelihood, Sigma = sigma, Activation = Activation.Tanh,
            ImageHeight = 2, ImageWidth = 2,
        };
        var layout = new ParameterLayout(config);
        var parameters = new float[layout.Length];
        var random = new Random(7);
        // A decoder with some curvature, and an encoder that barely looks at x: q(z|x) stays near N(0, 1),
        // a poor but usable proposal (a random encoder of full scale can make q so narrow and misplaced
        // that no K of a few thousand closes the gap, which would test the proposal, not the code).
        foreach (var tensor in layout.Tensors)
        {
            double scale = tensor.Name.StartsWith("fc3", StringComparison.Ordinal) || tensor.Name.StartsWith("fc4", StringComparison.Ordinal) ? 1.5 : 0.3;
            for (int i = 0; i < tensor.Length; i++) parameters[tensor.Offset + i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        byte[] pixels = [0, 255, 255, 0, 255, 255, 255, 255, 0, 0, 0, 0, 30, 200, 120, 250, 255, 0, 128, 64];
        int count = pixels.Length / 4;
        const int samples = 5000;
        using Accelerator acc = device == "cpu" ? new CpuAccelerator() : Devices.Open(device);
        using var evaluator = new ImportanceSampledLikelihood(acc, config, parameters, rowsPerForward: 700, imagesPerGroup: 3);
        var result = evaluator.Evaluate(pixels, count, samples, seed: 11, binarize: false);

        var estimates = result.Estimates;
        CollectionAssert.AreEqual(new[] { 1, 10, 100, 1000, 5000 }, estimates.Select(e => e.Samples).ToArray());
        var final = estimates[^1].PerImage;
        for (int i = 0; i < count; i++)
        {
            double exact = -LogMarginal(config, layout, parameters, pixels.AsSpan(i * 4, 4));
            // The K-sample estimate's bias and spread shrink as 1/K; with 5000 samples in one dimension
            // it sits within a few hundredths of a nat, far inside the gap of the ELBO (checked below).
            Assert.AreEqual(exact, final[i], 0.03, $"image {i}: -log p(x) exact {exact:F4}, K=5000 estimate {final[i]:F4}, K=1 {estimates[0].PerImage[i]:F4}");
        }
        double meanExact = Enumerable.Range(0, count).Average(i => -LogMarginal(config, layout, parameters, pixels.AsSpan(i * 4, 4)));
        Assert.IsGreaterThan(meanExact + 0.05, result.NegativeElboAveraged.Mean, "the poor encoder leaves a gap between -ELBO and -log p(x)");
        Assert.IsLessThan(result.NegativeElboAveraged.Mean, estimates[^1].NegativeLogLikelihood.Mean, "-log p(x) lies below -ELBO");
    }

    /// <summary>log ∫ N(z; 0, 1) p(x|z) dz by the trapezoid rule on [-12, 12] in double, with a double decoder.</summary>
    private static double LogMarginal(VaeConfig config, ParameterLayout layout, float[] p, ReadOnlySpan<byte> image)
    {
        var x = new double[4];
        for (int d = 0; d < 4; d++) x[d] = image[d] * (double)(1f / 255f);
        const int points = 24001;
        const double lo = -12, hi = 12, step = (hi - lo) / (points - 1);
        var logTerms = new double[points];
        for (int q = 0; q < points; q++)
        {
            double z = lo + q * step;
            double logPrior = -0.5 * z * z - 0.5 * Math.Log(2 * Math.PI);
            logTerms[q] = logPrior + LogLikelihood(config, layout, p, z, x) + Math.Log(q == 0 || q == points - 1 ? step / 2 : step);
        }
        double max = logTerms.Max();
        return max + Math.Log(logTerms.Sum(t => Math.Exp(t - max)));
    }

    private static double LogLikelihood(VaeConfig config, ParameterLayout layout, float[] p, double z, double[] x)
    {
        var w3 = layout["fc3.weight"]; var b3 = layout["fc3.bias"];
        var w4 = layout["fc4.weight"]; var b4 = layout["fc4.bias"];
        var h = new double[3];
        for (int j = 0; j < 3; j++) h[j] = Math.Tanh(p[w3.Offset + j] * z + p[b3.Offset + j]);
        double log = 0;
        for (int d = 0; d < 4; d++)
        {
            double l = p[b4.Offset + d];
            for (int j = 0; j < 3; j++) l += p[w4.Offset + d * 3 + j] * h[j];
            log += config.Likelihood == Likelihood.Bernoulli
                ? x[d] * l - Math.Max(l, 0) - Math.Log(1 + Math.Exp(-Math.Abs(l)))
                : -(x[d] - l) * (x[d] - l) / (2.0 * config.Sigma * config.Sigma) - Math.Log(config.Sigma) - 0.5 * Math.Log(2 * Math.PI);
        }
        return log;
    }
}
