using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The hand-written backward against central finite differences of a double-precision forward written
/// here, independently of the network code: every element of every parameter tensor, both likelihoods,
/// beta != 1, one and two hidden layers. The reference reuses the eps the float forward drew, so both
/// differentiate the same function.
/// </summary>
[TestClass]
public sealed class VaeGradientCheckTests
{
    private const int Rows = 5;

    [TestMethod]
    [DataRow(Likelihood.Bernoulli, Activation.Relu, "7", 0.7f, 1f)]
    [DataRow(Likelihood.Gaussian, Activation.Relu, "7", 2.5f, 0.8f)]
    [DataRow(Likelihood.Bernoulli, Activation.Tanh, "7,5", 0.3f, 1f)]
    [DataRow(Likelihood.Gaussian, Activation.LeakyRelu, "6,5", 1.5f, 1.3f)]
    public void BackwardMatchesFiniteDifferencesForEveryTensor(Likelihood likelihood, Activation activation, string hidden, float beta, float sigma)
    {
        var config = new VaeConfig
        {
            Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = VaeConfig.ParseHidden(hidden), Latent = 3,
            Likelihood = likelihood, Activation = activation, Beta = beta, Sigma = sigma,
        };
        CheckAgainstFiniteDifferences(config, denoising: false);
    }

    /// <summary>
    /// The conditional model (one-hot labels joined to the encoder's and the decoder's input) and the
    /// denoising batch (the encoder sees another image than the decoder is scored against).
    /// </summary>
    [TestMethod]
    [DataRow(ModelKind.Conditional, false, "7")]
    [DataRow(ModelKind.Conditional, true, "6,5")]
    [DataRow(ModelKind.Mlp, true, "7")]
    public void ConditionalAndDenoisingBackwardMatchFiniteDifferences(ModelKind kind, bool denoising, string hidden)
    {
        var config = new VaeConfig
        {
            Kind = kind, Classes = kind == ModelKind.Conditional ? 4 : 0,
            Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = VaeConfig.ParseHidden(hidden), Latent = 3, Activation = Activation.Tanh,
        };
        CheckAgainstFiniteDifferences(config, denoising);
    }

    /// <summary>Free bits: the freed dimensions' KL is a constant, so their KL gradients vanish, the rest are the plain ones.</summary>
    [TestMethod]
    public void FreeBitsBackwardMatchesFiniteDifferences()
    {
        var config = new VaeConfig { Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = [7], Latent = 4, Activation = Activation.Tanh, Beta = 1.2f };
        CheckAgainstFiniteDifferences(config, denoising: false, freeBits: MedianFloor);
    }

    /// <summary>Asks for a free-bits floor between the batch's middle two dimension KLs: half the dimensions are freed.</summary>
    private const float MedianFloor = -1f;

    private static void CheckAgainstFiniteDifferences(VaeConfig config, bool denoising, float freeBits = 0f)
    {
        using var acc = new CpuAccelerator();
        using var network = ModelKinds.Create(acc, config, Rows, seed: 11);
        network.FreeBits = freeBits;
        var rng = new Random(5);
        float[] xHost = Enumerable.Range(0, Rows * config.Input).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] inputHost = denoising ? xHost.Select(v => Math.Clamp(v + (float)(rng.NextDouble() - 0.5), 0f, 1f)).ToArray() : xHost;
        int[] labels = Enumerable.Range(0, Rows).Select(_ => rng.Next(Math.Max(1, config.Classes))).ToArray();
        float[] oneHotHost = new float[Rows * config.Classes];
        for (int r = 0; r < Rows && config.Classes > 0; r++) oneHotHost[r * config.Classes + labels[r]] = 1f;
        using var x = acc.Upload<float>(xHost);
        using var input = acc.Upload<float>(inputHost);
        using var oneHot = acc.Upload<float>(config.Classes > 0 ? oneHotHost : [0f]);
        var batch = new VaeBatch(x, denoising ? input.View : default, config.Classes > 0 ? oneHot.View : default);

        if (freeBits == MedianFloor)
        {
            network.ForwardLoss(batch, Rows, new RandomSource(3, 1, RandomStream.Latent));
            float[] stats = acc.Download(network.Stats(Rows));
            int l = config.Latent;
            var means = Enumerable.Range(0, l).Select(j => Enumerable.Range(0, Rows).Average(i =>
                -0.5 * (1 + stats[i * 2 * l + l + j] - stats[i * 2 * l + j] * stats[i * 2 * l + j] - Math.Exp(stats[i * 2 * l + l + j])))).Order().ToArray();
            freeBits = (float)((means[l / 2 - 1] + means[l / 2]) / 2);
            Assert.IsLessThan(means[l / 2] - 1e-6, means[l / 2 - 1], "distinct dimension KLs");
            network.FreeBits = freeBits;
        }
        network.ForwardLoss(batch, Rows, new RandomSource(3, 1, RandomStream.Latent));
        network.Backward(batch, Rows);
        float[] analytic = acc.Download(network.Gradients.View);
        float[] eps = acc.Download(network.Eps(Rows));
        float[] perSample = acc.Download(network.PerSampleLoss(Rows));
        double[] parameters = acc.Download(network.Parameters.View).Select(v => (double)v).ToArray();

        var reference = new ReferenceVae(network.Layout, xHost.Select(v => (double)v).ToArray(), eps.Select(v => (double)v).ToArray(), Rows)
        {
            EncoderInput = inputHost.Select(v => (double)v).ToArray(),
            Condition = oneHotHost.Select(v => (double)v).ToArray(),
            FreeBits = freeBits,
        };
        double[] referencePerSample = reference.PerSampleLoss(parameters);
        for (int i = 0; i < Rows; i++)
            Assert.AreEqual(referencePerSample[i], perSample[i], 1e-4 * Math.Max(1, Math.Abs(referencePerSample[i])), $"loss of sample {i}");

        const double h = 1e-6;
        foreach (var tensor in network.Layout.Tensors)
        {
            double worst = 0;
            for (int e = 0; e < tensor.Length; e++)
            {
                int p = tensor.Offset + e;
                double saved = parameters[p];
                parameters[p] = saved + h; double up = reference.Loss(parameters);
                parameters[p] = saved - h; double down = reference.Loss(parameters);
                parameters[p] = saved;
                double numeric = (up - down) / (2 * h);
                double error = Math.Abs(analytic[p] - numeric) / Math.Max(1.0, Math.Abs(numeric));
                worst = Math.Max(worst, error);
                Assert.IsLessThan(2e-4, error, $"{tensor.Name}[{e}]: analytic {analytic[p]}, numeric {numeric}");
            }
            Assert.IsLessThan(2e-4, worst, tensor.Name);
        }
    }

    [TestMethod]
    public void GradientsOfEveryTensorAreNonZero()
    {
        // A backward that forgot a tensor would leave it at zero and still "agree" where the numeric
        // gradient is tiny; on this batch every tensor has a clearly non-zero gradient.
        var config = new VaeConfig { Input = 12, ImageHeight = 3, ImageWidth = 4, Hidden = [7], Latent = 3 };
        using var acc = new CpuAccelerator();
        using var network = VaeNetwork.Create(acc, config, Rows, seed: 2);
        var rng = new Random(1);
        using var x = acc.Upload<float>(Enumerable.Range(0, Rows * 12).Select(_ => (float)rng.NextDouble()).ToArray());
        network.ForwardLoss(x, Rows, new RandomSource(1, 1, RandomStream.Latent));
        network.Backward(x, Rows);
        float[] g = acc.Download(network.Gradients.View);
        foreach (var tensor in network.Layout.Tensors)
            Assert.IsGreaterThan(1e-4, g.AsSpan(tensor.Offset, tensor.Length).ToArray().Max(Math.Abs), tensor.Name);
    }

    /// <summary>The VAE forward and loss in double, from the layout's names only.</summary>
    private sealed class ReferenceVae(ParameterLayout layout, double[] x, double[] eps, int rows)
    {
        private readonly VaeConfig _c = layout.Config;

        /// <summary>What the encoder sees (x itself when not set: the plain VAE).</summary>
        public double[]? EncoderInput { get; init; }

        /// <summary>One-hot labels, rows x Classes, joined to the encoder's and the decoder's input of a conditional model.</summary>
        public double[] Condition { get; init; } = [];

        /// <summary>The free-bits floor: a dimension whose batch-mean KL is below it counts the floor instead.</summary>
        public double FreeBits { get; init; }

        public double Loss(double[] p) => PerSampleLoss(p).Sum();

        public double[] PerSampleLoss(double[] p)
        {
            int n = _c.Hidden.Count, latent = _c.Latent;
            bool classic = n == 1;
            var losses = new double[rows];
            var kls = new double[rows, latent];
            for (int r = 0; r < rows; r++)
            {
                double[] label = Condition.AsSpan(r * _c.Classes, _c.Classes).ToArray();
                double[] h = [.. (EncoderInput ?? x).AsSpan(r * _c.Input, _c.Input), .. label];
                for (int i = 0; i < n; i++) h = Activate(Linear(p, classic ? "fc1" : $"encoder.{i}", h));
                double[] mu = Linear(p, "fc21", h), logvar = Linear(p, "fc22", h);
                var z = new double[latent];
                for (int j = 0; j < latent; j++) z[j] = mu[j] + Math.Exp(0.5 * logvar[j]) * eps[r * latent + j];
                double[] d = [.. z, .. label];
                for (int i = 0; i < n; i++) d = Activate(Linear(p, classic ? "fc3" : $"decoder.{i}", d));
                double[] logits = Linear(p, "fc4", d);

                double recon = 0;
                for (int k = 0; k < _c.Input; k++)
                {
                    double l = logits[k], t = x[r * _c.Input + k];
                    recon += _c.Likelihood == Likelihood.Bernoulli
                        ? Math.Max(l, 0) - l * t + Math.Log(1 + Math.Exp(-Math.Abs(l)))
                        : (t - l) * (t - l) / (2.0 * _c.Sigma * _c.Sigma) + Math.Log(_c.Sigma) + 0.5 * Math.Log(2 * Math.PI);
                }
                double kl = 0;
                for (int j = 0; j < latent; j++) kl += kls[r, j] = -0.5 * (1 + logvar[j] - mu[j] * mu[j] - Math.Exp(logvar[j]));
                losses[r] = recon + _c.Beta * kl;
            }
            for (int j = 0; j < latent && FreeBits > 0; j++)
            {
                double mean = 0;
                for (int r = 0; r < rows; r++) mean += kls[r, j] / rows;
                if (mean < FreeBits)
                    for (int r = 0; r < rows; r++) losses[r] += _c.Beta * (FreeBits - kls[r, j]);
            }
            return losses;
        }

        private double[] Linear(double[] p, string name, double[] input)
        {
            var w = layout[name + ".weight"];
            var b = layout[name + ".bias"];
            int outs = w.Shape[0], ins = w.Shape[1];
            Assert.AreEqual(input.Length, ins, name);
            var y = new double[outs];
            for (int o = 0; o < outs; o++)
            {
                double s = p[b.Offset + o];
                for (int i = 0; i < ins; i++) s += p[w.Offset + o * ins + i] * input[i];
                y[o] = s;
            }
            return y;
        }

        private double[] Activate(double[] v) => v.Select(a => _c.Activation switch
        {
            Activation.Relu => Math.Max(a, 0),
            Activation.LeakyRelu => a > 0 ? a : 0.01 * a,
            Activation.Tanh => Math.Tanh(a),
            Activation.Sigmoid => 1 / (1 + Math.Exp(-a)),
            _ => a,
        }).ToArray();
    }
}
