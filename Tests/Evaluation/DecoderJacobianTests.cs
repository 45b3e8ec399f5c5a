using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Tests.Host;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Evaluation;

namespace IlgpuVae.Tests.Evaluation;

/// <summary>
/// The decoder's Jacobian by central differences of the float logits on the device, against the exact
/// Jacobian of a double-precision decoder written here from the layout's names (forward-mode: a tangent
/// per latent dimension through each layer), and the jacobian command on a small trained model: its
/// singular values and rank agree with the double reference, and a latent dimension whose decoder
/// weights are zeroed by hand is named as ignored and costs the rank one.
/// </summary>
[TestClass]
public sealed class DecoderJacobianTests
{
    [TestMethod]
    [DataRow(ModelKind.Mlp, Likelihood.Bernoulli, Activation.Relu, "16")]
    [DataRow(ModelKind.Mlp, Likelihood.Gaussian, Activation.LeakyRelu, "12,9")]
    [DataRow(ModelKind.Mlp, Likelihood.Bernoulli, Activation.Tanh, "10")]
    [DataRow(ModelKind.Conditional, Likelihood.Bernoulli, Activation.Relu, "16")]
    public void FiniteDifferencesOfTheLogitsMatchTheExactJacobian(ModelKind kind, Likelihood likelihood, Activation activation, string hidden)
    {
        var config = new VaeConfig
        {
            Kind = kind, Classes = kind == ModelKind.Conditional ? 3 : 0, Input = 30, ImageHeight = 5, ImageWidth = 6,
            Hidden = VaeConfig.ParseHidden(hidden), Latent = 5, Likelihood = likelihood, Activation = activation,
        };
        const int count = 7;
        using var acc = new CpuAccelerator();
        using var network = ModelKinds.Create(acc, config, DecoderJacobian.Capacity(config, count), seed: 3);
        double[] p = acc.Download(network.Parameters.View).Select(v => (double)v).ToArray();
        var result = DecoderJacobian.Analyse(network, count, seed: 4);
        byte[] labels = Enumerable.Range(0, count).Select(i => (byte)(i % Math.Max(1, config.Classes))).ToArray();
        var jacobians = DecoderJacobian.Jacobians(network, result.Points.SelectMany(q => q.Z).ToArray(), count, DecoderJacobian.DefaultStep, labels);

        var reference = new ReferenceDecoder(network.Layout);
        for (int q = 0; q < count; q++)
        {
            var point = result.Points[q];
            Assert.AreEqual(config.Classes > 0 ? q % config.Classes : null, point.Label);
            double[] exact = reference.Jacobian(p, point.Z, point.Label);
            double scale = exact.Max(Math.Abs);
            for (int k = 0; k < exact.Length; k++)
                Assert.AreEqual(exact[k], jacobians[q][k], 2e-3 * scale, $"point {q}, J[{k / config.Latent}, {k % config.Latent}]");
            var s = DecoderJacobian.SingularValues(exact, config.Input, config.Latent);
            for (int i = 0; i < s.Length; i++)
                Assert.AreEqual(s[i], point.SingularValues[i], 1e-3 * s[0], $"point {q}, singular value {i}");
            Assert.AreEqual(DecoderJacobian.Rank(s, DecoderJacobian.DefaultTolerance), point.Rank, $"point {q}");
        }
    }

    /// <summary>
    /// The conv and the hierarchical model have no double reference here: their spectra at two steps
    /// agree (a difference that crossed a ReLU kink unnoticed would not), and a hierarchical model's
    /// points are its z1 draws.
    /// </summary>
    [TestMethod]
    [DataRow(ModelKind.Conv)]
    [DataRow(ModelKind.Hierarchical)]
    public void ConvAndHierarchicalSpectraDoNotDependOnTheStep(ModelKind kind)
    {
        var config = (kind == ModelKind.Conv
            ? new VaeConfig { Kind = kind, Input = 64, ImageHeight = 8, ImageWidth = 8, Hidden = [4, 6], Latent = 5 }
            : new VaeConfig { Kind = kind, Input = 30, ImageHeight = 5, ImageWidth = 6, Hidden = [12], Latent = 4, TopHidden = [6], TopLatent = 3 }).Validate();
        const int count = 6;
        using var acc = new CpuAccelerator();
        using var network = ModelKinds.Create(acc, config, DecoderJacobian.Capacity(config, count), seed: 8);
        var coarse = DecoderJacobian.Analyse(network, count, seed: 2, step: 1e-2f);
        var fine = DecoderJacobian.Analyse(network, count, seed: 2, step: 2.5e-3f);
        for (int q = 0; q < count; q++)
        {
            CollectionAssert.AreEqual(coarse.Points[q].Z, fine.Points[q].Z, "the same draws");
            var a = coarse.Points[q].SingularValues;
            var b = fine.Points[q].SingularValues;
            Assert.HasCount(config.Latent, a);
            for (int i = 0; i < a.Length; i++)
            {
                Assert.AreEqual(a[i], b[i], 1e-3 * a[0], $"point {q}, singular value {i}");
                if (i > 0) Assert.IsLessThanOrEqualTo(a[i - 1], a[i], "largest first");
            }
        }
    }

    [TestMethod]
    public void RankAndColumnNormsOfSmallMatrices()
    {
        // Columns (3, 4) and (0, 0): singular values 5 and 0; rank 1; the second column is ignored.
        double[] j = [3, 0, 4, 0];
        var s = DecoderJacobian.SingularValues(j, 2, 2);
        Assert.AreEqual(5, s[0], 1e-12);
        Assert.AreEqual(0, s[1], 1e-12);
        Assert.AreEqual(1, DecoderJacobian.Rank(s, 1e-3));
        CollectionAssert.AreEqual(new[] { 5.0, 0.0 }, DecoderJacobian.ColumnNorms(j, 2, 2));
        Assert.AreEqual(0, DecoderJacobian.Rank([0.0, 0.0], 1e-3));
        Assert.AreEqual(0.25, DecoderJacobian.SigmoidSlope(0), 1e-15);
        Assert.AreEqual(Math.Exp(-800), DecoderJacobian.SigmoidSlope(800), 1e-300);
    }

    [TestMethod]
    public void OnATrainedModelTheCommandAgreesWithTheDoubleReferenceAndNamesAZeroedDimension()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 600, testCount: 100);
        var train = CliRunner.Run("train", "--max-steps", "20", "--batch-size", "64", "--hidden", "32", "--latent", "4",
            "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, train.ExitCode, train.Error);
        string modelPath = Path.Combine(temp["run"], "model.safetensors");
        var model = VaeModelFile.Load(modelPath);
        var layout = new ParameterLayout(model.Config);
        double[] p = model.Parameters.Select(v => (double)v).ToArray();
        int latent = model.Config.Latent, input = model.Config.Input;

        var run = CliRunner.Run("jacobian", "--model", modelPath, "--points", "6", "--out", temp["spectra.png"], "--json", temp["j.json"]);
        Assert.AreEqual(ExitCodes.Ok, run.ExitCode, run.Error);
        StringAssert.Contains(run.Out, "rank 4 of 4 at every point");
        StringAssert.Contains(run.Out, "no latent dimension is ignored");
        var (ok, png) = CliRunner.PngCheck(temp["spectra.png"]);
        Assert.IsTrue(ok, png);
        var reference = new ReferenceDecoder(layout);
        using (var json = JsonDocument.Parse(File.ReadAllText(temp["j.json"])))
        {
            var points = json.RootElement.GetProperty("points").EnumerateArray().ToArray();
            Assert.HasCount(6, points);
            Assert.AreEqual(0, json.RootElement.GetProperty("ignored_dimensions").GetArrayLength());
            foreach (var point in points)
            {
                float[] z = point.GetProperty("z").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                double[] exact = reference.Jacobian(p, z, null);
                var s = DecoderJacobian.SingularValues(exact, input, latent);
                double[] measured = point.GetProperty("singular_values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                Assert.HasCount(latent, measured);
                for (int i = 0; i < latent; i++) Assert.AreEqual(s[i], measured[i], 1e-3 * s[0], $"singular value {i}: {string.Join(", ", measured)} against {string.Join(", ", s)}");
                Assert.AreEqual(DecoderJacobian.Rank(s, DecoderJacobian.DefaultTolerance), point.GetProperty("rank").GetInt32());
                Assert.AreEqual(latent, point.GetProperty("rank").GetInt32());
            }
        }

        // Zero the decoder's weights from z[2]: the image no longer moves along that axis.
        const int dead = 2;
        var weight = layout["fc3.weight"];
        float[] zeroed = (float[])model.Parameters.Clone();
        for (int o = 0; o < weight.Shape[0]; o++) zeroed[weight.Offset + o * weight.Shape[1] + dead] = 0f;
        string zeroedPath = temp["zeroed.safetensors"];
        VaeModelFile.Save(zeroedPath, model.Config, zeroed);
        var again = CliRunner.Run("jacobian", "--model", zeroedPath, "--points", "6", "--out", temp["zeroed.png"], "--json", temp["zeroed.json"]);
        Assert.AreEqual(ExitCodes.Ok, again.ExitCode, again.Error);
        StringAssert.Contains(again.Out, "rank 3 of 4 at every point");
        StringAssert.Contains(again.Out, "latent dimensions the decoder ignores");
        StringAssert.Contains(again.Out, $"z[{dead}]");
        using (var json = JsonDocument.Parse(File.ReadAllText(temp["zeroed.json"])))
        {
            CollectionAssert.AreEqual(new[] { dead }, json.RootElement.GetProperty("ignored_dimensions").EnumerateArray().Select(d => d.GetInt32()).ToArray());
            foreach (var point in json.RootElement.GetProperty("points").EnumerateArray())
            {
                Assert.AreEqual(latent - 1, point.GetProperty("rank").GetInt32());
                Assert.AreEqual(0.0, point.GetProperty("column_norms")[dead].GetDouble());
            }
        }
    }

    [TestMethod]
    public void AGanIsRefusedWithAUsageError()
    {
        using var temp = new TempDirectory();
        var config = new VaeConfig { Kind = ModelKind.Gan, Input = 784, ImageHeight = 28, ImageWidth = 28, Hidden = [8], Latent = 4 };
        var layout = new ParameterLayout(config);
        VaeModelFile.Save(temp["gan.safetensors"], config, new float[layout.Length]);
        var run = CliRunner.Run("jacobian", "--model", temp["gan.safetensors"], "--out", temp["s.png"]);
        Assert.AreEqual(ExitCodes.Usage, run.ExitCode, run.Error);
        StringAssert.Contains(run.Error, "gan model");
        Assert.IsFalse(File.Exists(temp["s.png"]));
        var tolerance = CliRunner.Run("jacobian", "--model", temp["gan.safetensors"], "--tolerance", "1");
        Assert.AreEqual(ExitCodes.Usage, tolerance.ExitCode);
        StringAssert.Contains(tolerance.Error, "--tolerance");
    }

    /// <summary>The decoder of the MLP and the conditional VAE in double, and its exact Jacobian by forward-mode differentiation.</summary>
    private sealed class ReferenceDecoder(ParameterLayout layout)
    {
        private readonly VaeConfig _c = layout.Config;

        /// <summary>d mean / d z at z (Input x Latent, row-major); label: a conditional model's class.</summary>
        public double[] Jacobian(double[] p, float[] z, int? label)
        {
            int latent = _c.Latent, n = _c.Hidden.Count;
            bool classic = n == 1;
            double[] a = [.. z.Select(v => (double)v), .. Enumerable.Range(0, _c.Classes).Select(k => k == label ? 1.0 : 0.0)];
            // Tangents: column j starts as e_j over z (the label does not move).
            var t = new double[latent][];
            for (int j = 0; j < latent; j++)
            {
                t[j] = new double[a.Length];
                t[j][j] = 1;
            }
            for (int i = 0; i < n; i++)
            {
                string name = classic ? "fc3" : $"decoder.{i}";
                double[] pre = Linear(p, name, a, bias: true);
                a = pre.Select(Activate).ToArray();
                for (int j = 0; j < latent; j++)
                {
                    double[] tp = Linear(p, name, t[j], bias: false);
                    for (int k = 0; k < tp.Length; k++) tp[k] *= Slope(pre[k]);
                    t[j] = tp;
                }
            }
            double[] logits = Linear(p, "fc4", a, bias: true);
            var jacobian = new double[_c.Input * latent];
            for (int j = 0; j < latent; j++)
            {
                double[] dl = Linear(p, "fc4", t[j], bias: false);
                for (int i = 0; i < _c.Input; i++)
                {
                    double s = 1 / (1 + Math.Exp(-logits[i]));
                    jacobian[i * latent + j] = _c.Likelihood == Likelihood.Bernoulli ? s * (1 - s) * dl[i] : dl[i];
                }
            }
            return jacobian;
        }

        private double[] Linear(double[] p, string name, double[] input, bool bias)
        {
            var w = layout[name + ".weight"];
            var b = layout[name + ".bias"];
            int outs = w.Shape[0], ins = w.Shape[1];
            Assert.AreEqual(input.Length, ins, name);
            var y = new double[outs];
            for (int o = 0; o < outs; o++)
            {
                double s = bias ? p[b.Offset + o] : 0;
                for (int i = 0; i < ins; i++) s += p[w.Offset + o * ins + i] * input[i];
                y[o] = s;
            }
            return y;
        }

        private double Activate(double a) => _c.Activation switch
        {
            Activation.Relu => Math.Max(a, 0),
            Activation.LeakyRelu => a > 0 ? a : 0.01 * a,
            Activation.Tanh => Math.Tanh(a),
            Activation.Sigmoid => 1 / (1 + Math.Exp(-a)),
            _ => a,
        };

        private double Slope(double a) => _c.Activation switch
        {
            Activation.Relu => a > 0 ? 1 : 0,
            Activation.LeakyRelu => a > 0 ? 1 : 0.01,
            Activation.Tanh => 1 - Math.Tanh(a) * Math.Tanh(a),
            Activation.Sigmoid => 1 / (1 + Math.Exp(-a)) * (1 - 1 / (1 + Math.Exp(-a))),
            _ => 1,
        };
    }
}
