using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Evaluation;

namespace IlgpuVae.Tests.Evaluation;

/// <summary>
/// The score-function estimator (with and without its baseline) and the reparameterisation estimator
/// estimate the same gradient: on a tiny model their means over many draws agree within their standard
/// errors, element by element, and the score function is the noisier.
/// </summary>
[TestClass]
public sealed class GradientEstimatorTests
{
    [TestMethod]
    public void ScoreFunctionAndReparameterisationAreBothUnbiased()
    {
        var config = new VaeConfig { Input = 6, ImageHeight = 2, ImageWidth = 3, Hidden = [5], Latent = 2, Activation = Activation.Tanh };
        using var acc = new CpuAccelerator();
        const int rows = 4, samples = 6000;
        using var network = ModelKinds.Create(acc, config, rows, seed: 3);
        var rng = new Random(2);
        using var x = acc.Upload<float>(Enumerable.Range(0, rows * config.Input).Select(_ => (float)rng.NextDouble()).ToArray());

        var stats = GradientVariance.Run(network, new VaeBatch(x), rows, samples, seed: 9);
        var groups = GradientVariance.EncoderGroups(network.Layout);
        CollectionAssert.AreEquivalent(new[] { "fc1.weight", "fc1.bias", "fc21.weight", "fc22.weight", "fc21.bias", "fc22.bias" },
            groups.Select(g => g.Name).ToArray());
        foreach (int e in new[] { 1, 2 })
        {
            var comparison = GradientVarianceStatistics.Compare(stats[e], stats[0], groups);
            string which = GradientEstimators.Name(GradientVariance.Estimators[e]);
            int elements = comparison.Groups.Sum(g => g.Elements);
            double agreement = comparison.Groups.Sum(g => g.AgreementShare * g.Elements) / elements;
            double chiSquare = comparison.Groups.Sum(g => g.ReducedChiSquare * g.Elements) / elements;
            Assert.IsGreaterThan(0.95, agreement, $"{which}: share of the {elements} encoder gradient means within 3 standard errors of reparam's");
            Assert.IsLessThan(2.0, chiSquare, $"{which}: mean squared standardized difference");
            foreach (var g in comparison.Groups)
                Assert.IsGreaterThan(1.0, g.VarianceRatio, $"{which} is noisier than reparam on {g.Name}");
        }
        // The decoder is differentiated the same way by every estimator: its gradients agree draw for draw.
        var fc4 = network.Layout["fc4.weight"];
        for (int i = 0; i < fc4.Length; i++) Assert.AreEqual(stats[0].Mean(fc4.Offset + i), stats[1].Mean(fc4.Offset + i), 1e-6);
    }
}
