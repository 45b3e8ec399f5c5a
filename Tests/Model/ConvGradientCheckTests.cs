using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The convolutional VAE's backward against central finite differences of a double-precision forward
/// written here with plain loops over pixels (convolution and transposed convolution as PyTorch defines
/// them, channels last), not with im2col: every element of every tensor.
/// </summary>
[TestClass]
public sealed class ConvGradientCheckTests
{
    private const int Rows = 2, K = 4, S = 2, P = 1;

    [TestMethod]
    [DataRow(8, 8, "3,4")]
    [DataRow(4, 8, "2")]
    public void BackwardMatchesFiniteDifferencesForEveryTensor(int height, int width, string channels)
    {
        var config = new VaeConfig
        {
            Kind = ModelKind.Conv, Input = height * width, ImageHeight = height, ImageWidth = width, Hidden = VaeConfig.ParseHidden(channels), Latent = 2,
        };
        using var acc = new CpuAccelerator();
        using var network = ModelKinds.Create(acc, config, Rows, seed: 4);
        var rng = new Random(8);
        float[] xHost = Enumerable.Range(0, Rows * config.Input).Select(_ => (float)rng.NextDouble()).ToArray();
        using var x = acc.Upload<float>(xHost);
        network.ForwardLoss(new VaeBatch(x), Rows, new RandomSource(2, 3, RandomStream.Latent));
        network.Backward(new VaeBatch(x), Rows);
        float[] analytic = acc.Download(network.Gradients.View);
        float[] perSample = acc.Download(network.PerSampleLoss(Rows));
        double[] eps = acc.Download(network.Eps(Rows)).Select(v => (double)v).ToArray();
        double[] parameters = acc.Download(network.Parameters.View).Select(v => (double)v).ToArray();
        var reference = new Reference(network.Layout, xHost.Select(v => (double)v).ToArray(), eps);
        double[] expected = reference.PerSampleLoss(parameters);
        for (int i = 0; i < Rows; i++) Assert.AreEqual(expected[i], perSample[i], 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"loss of sample {i}");

        const double h = 1e-6;
        foreach (var tensor in network.Layout.Tensors)
            for (int e = 0; e < tensor.Length; e++)
            {
                int p = tensor.Offset + e;
                double saved = parameters[p];
                parameters[p] = saved + h; double up = reference.PerSampleLoss(parameters).Sum();
                parameters[p] = saved - h; double down = reference.PerSampleLoss(parameters).Sum();
                parameters[p] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.IsLessThan(3e-4, Math.Abs(analytic[p] - numeric) / Math.Max(1.0, Math.Abs(numeric)),
                    $"{tensor.Name}[{e}]: analytic {analytic[p]}, numeric {numeric}");
            }
    }

    private sealed class Reference(ParameterLayout layout, double[] x, double[] eps)
    {
        private readonly VaeConfig _c = layout.Config;

        public double[] PerSampleLoss(double[] p)
        {
            int depth = _c.Hidden.Count, latent = _c.Latent;
            var losses = new double[Rows];
            for (int r = 0; r < Rows; r++)
            {
                double[] xi = x.AsSpan(r * _c.Input, _c.Input).ToArray();
                double[] h = xi;
                int hh = _c.ImageHeight, ww = _c.ImageWidth, cc = 1;
                for (int i = 0; i < depth; i++)
                {
                    h = Relu(Conv(p, $"conv.{i}", h, hh, ww, cc, _c.Hidden[i]));
                    hh /= 2; ww /= 2; cc = _c.Hidden[i];
                }
                double[] mu = Linear(p, "fc21", h), logvar = Linear(p, "fc22", h);
                var z = new double[latent];
                for (int j = 0; j < latent; j++) z[j] = mu[j] + Math.Exp(logvar[j] / 2) * eps[r * latent + j];
                double[] d = Relu(Linear(p, "fc3", z));
                for (int j = 0; j < depth; j++)
                {
                    int outChannels = j + 2 <= depth ? _c.Hidden[depth - j - 2] : 1;
                    d = Deconv(p, $"deconv.{j}", d, hh, ww, cc, outChannels);
                    if (j < depth - 1) d = Relu(d);
                    hh *= 2; ww *= 2; cc = outChannels;
                }
                double recon = 0, kl = 0;
                for (int k = 0; k < _c.Input; k++) recon += Math.Max(d[k], 0) - d[k] * xi[k] + Math.Log(1 + Math.Exp(-Math.Abs(d[k])));
                for (int j = 0; j < latent; j++) kl += -0.5 * (1 + logvar[j] - mu[j] * mu[j] - Math.Exp(logvar[j]));
                losses[r] = recon + kl;
            }
            return losses;
        }

        /// <summary>PyTorch's Conv2d (kernel 4, stride 2, padding 1), channels last; weight [out, kh, kw, in].</summary>
        private double[] Conv(double[] p, string name, double[] input, int height, int width, int inC, int outC)
        {
            var w = layout[name + ".weight"];
            var b = layout[name + ".bias"];
            int oh = height / 2, ow = width / 2;
            var y = new double[oh * ow * outC];
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < outC; o++)
                    {
                        double s = p[b.Offset + o];
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++)
                            {
                                int yy = i * S - P + kh, xx = j * S - P + kw;
                                if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                                for (int c = 0; c < inC; c++)
                                    s += p[w.Offset + ((o * K + kh) * K + kw) * inC + c] * input[(yy * width + xx) * inC + c];
                            }
                        y[(i * ow + j) * outC + o] = s;
                    }
            return y;
        }

        /// <summary>PyTorch's ConvTranspose2d (kernel 4, stride 2, padding 1), channels last; weight [kh, kw, out, in].</summary>
        private double[] Deconv(double[] p, string name, double[] input, int height, int width, int inC, int outC)
        {
            var w = layout[name + ".weight"];
            var b = layout[name + ".bias"];
            int oh = height * 2, ow = width * 2;
            var y = new double[oh * ow * outC];
            for (int e = 0; e < y.Length; e++) y[e] = p[b.Offset + e % outC];
            for (int i = 0; i < height; i++)
                for (int j = 0; j < width; j++)
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++)
                        {
                            int yy = i * S - P + kh, xx = j * S - P + kw;
                            if (yy < 0 || yy >= oh || xx < 0 || xx >= ow) continue;
                            for (int o = 0; o < outC; o++)
                                for (int c = 0; c < inC; c++)
                                    y[(yy * ow + xx) * outC + o] += p[w.Offset + ((kh * K + kw) * outC + o) * inC + c] * input[(i * width + j) * inC + c];
                        }
            return y;
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

        private static double[] Relu(double[] v) => v.Select(a => Math.Max(a, 0)).ToArray();
    }
}
