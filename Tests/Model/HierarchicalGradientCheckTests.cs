using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The hierarchical VAE's hand-written backward against central finite differences of a double-precision
/// forward written here from the Ladder VAE's equations and the layout's names alone: the bottom-up pass,
/// z2, p(z1|z2), the precision-weighted merge, z1, the decoder, the Bernoulli loss and both KL terms.
/// The reference reuses the eps the float forward drew, so both differentiate the same function.
/// </summary>
[TestClass]
public sealed class HierarchicalGradientCheckTests
{
    private const int Rows = 3;

    [TestMethod]
    [DataRow("6", "5", 0.8f)]
    [DataRow("6,5", "4,3", 1.3f)]
    public void BackwardMatchesFiniteDifferencesForEveryTensor(string hidden, string topHidden, float beta)
    {
        var config = new VaeConfig
        {
            Kind = ModelKind.Hierarchical, Input = 8, ImageHeight = 2, ImageWidth = 4, Hidden = VaeConfig.ParseHidden(hidden), Latent = 3,
            TopHidden = VaeConfig.ParseHidden(topHidden), TopLatent = 2, Activation = Activation.Tanh, Beta = beta,
        };
        using var acc = new CpuAccelerator();
        using var network = ModelKinds.Create(acc, config, Rows, seed: 7);
        var rng = new Random(3);
        float[] xHost = Enumerable.Range(0, Rows * config.Input).Select(_ => (float)rng.NextDouble()).ToArray();
        using var x = acc.Upload<float>(xHost);
        var batch = new VaeBatch(x);
        var hierarchical = (HierarchicalVaeNetwork)network;
        network.ForwardLoss(batch, Rows, new RandomSource(5, 2, RandomStream.Latent));
        network.Backward(batch, Rows);
        float[] analytic = acc.Download(network.Gradients.View);
        float[] perSample = acc.Download(network.PerSampleLoss(Rows));
        double[] eps1 = acc.Download(network.Eps(Rows)).Select(v => (double)v).ToArray();
        double[] eps2 = acc.Download(hierarchical.TopEps(Rows)).Select(v => (double)v).ToArray();
        double[] parameters = acc.Download(network.Parameters.View).Select(v => (double)v).ToArray();

        var reference = new Reference(network.Layout, xHost.Select(v => (double)v).ToArray(), eps1, eps2);
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
        foreach (var tensor in network.Layout.Tensors)
            Assert.IsGreaterThan(1e-6, analytic.AsSpan(tensor.Offset, tensor.Length).ToArray().Max(Math.Abs), $"{tensor.Name} has a gradient");
    }

    private sealed class Reference(ParameterLayout layout, double[] x, double[] eps1, double[] eps2)
    {
        private readonly VaeConfig _c = layout.Config;

        public double[] PerSampleLoss(double[] p)
        {
            int l1 = _c.Latent, l2 = _c.TopLatent;
            var losses = new double[Rows];
            for (int r = 0; r < Rows; r++)
            {
                double[] xi = x.AsSpan(r * _c.Input, _c.Input).ToArray();
                double[] d1 = xi;
                for (int i = 0; i < _c.Hidden.Count; i++) d1 = Tanh(Linear(p, $"encoder.{i}", d1));
                double[] m1Hat = Linear(p, "q1_mu", d1), l1Hat = Linear(p, "q1_logvar", d1);
                double[] d2 = d1;
                for (int i = 0; i < _c.TopHidden.Count; i++) d2 = Tanh(Linear(p, $"top_encoder.{i}", d2));
                double[] m2 = Linear(p, "q2_mu", d2), lv2 = Linear(p, "q2_logvar", d2);
                var z2 = new double[l2];
                for (int j = 0; j < l2; j++) z2[j] = m2[j] + Math.Exp(lv2[j] / 2) * eps2[r * l2 + j];
                double[] t = z2;
                for (int i = 0; i < _c.TopHidden.Count; i++) t = Tanh(Linear(p, $"prior.{i}", t));
                double[] mp = Linear(p, "p1_mu", t), lp = Linear(p, "p1_logvar", t);
                // The precision-weighted merge (Sønderby et al. 2016, eqs. 17-19).
                var mq = new double[l1];
                var lq = new double[l1];
                var z1 = new double[l1];
                for (int j = 0; j < l1; j++)
                {
                    double a = Math.Exp(-l1Hat[j]), b = Math.Exp(-lp[j]);
                    lq[j] = -Math.Log(a + b);
                    mq[j] = (m1Hat[j] * a + mp[j] * b) / (a + b);
                    z1[j] = mq[j] + Math.Exp(lq[j] / 2) * eps1[r * l1 + j];
                }
                double[] d = z1;
                for (int i = 0; i < _c.Hidden.Count; i++) d = Tanh(Linear(p, $"decoder.{i}", d));
                double[] logits = Linear(p, "fc4", d);
                double recon = 0;
                for (int k = 0; k < _c.Input; k++) recon += Math.Max(logits[k], 0) - logits[k] * xi[k] + Math.Log(1 + Math.Exp(-Math.Abs(logits[k])));
                double kl2 = 0, kl1 = 0;
                for (int j = 0; j < l2; j++) kl2 += -0.5 * (1 + lv2[j] - m2[j] * m2[j] - Math.Exp(lv2[j]));
                for (int j = 0; j < l1; j++) kl1 += 0.5 * (lp[j] - lq[j] + (Math.Exp(lq[j]) + (mq[j] - mp[j]) * (mq[j] - mp[j])) / Math.Exp(lp[j]) - 1);
                losses[r] = recon + _c.Beta * (kl1 + kl2);
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

        private static double[] Tanh(double[] v) => v.Select(Math.Tanh).ToArray();
    }
}
