using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Training.Benchmarks;

namespace IlgpuVae.Tests.Cpu;

[TestClass]
public sealed class GemmBenchmarkTests
{
    [TestMethod]
    public void TimesEveryGemmOfATrainingStep()
    {
        using var acc = new CpuAccelerator();
        var results = GemmBenchmark.Run(acc, repeats: 3);

        // Forward (N,T) for the four layers, dX (N,N) for all but the first, dW (T,N) for all four.
        Assert.HasCount(11, results);
        Assert.AreEqual(4, results.Count(r => r.TransA == Transpose.N && r.TransB == Transpose.T));
        Assert.AreEqual(3, results.Count(r => r.TransA == Transpose.N && r.TransB == Transpose.N));
        Assert.AreEqual(4, results.Count(r => r.TransA == Transpose.T && r.TransB == Transpose.N));
        Assert.IsTrue(results.Any(r => (r.M, r.N, r.K) == (128, 400, 784) && r.TransB == Transpose.T), "encoder layer 1 forward");
        Assert.IsTrue(results.Any(r => (r.M, r.N, r.K) == (400, 784, 128) && r.TransA == Transpose.T), "encoder layer 1 weight gradient");
        Assert.AreEqual(results.Count, results.Select(r => r.Shape).Distinct().Count(), "shape names are unique");
        foreach (var r in results)
        {
            Assert.IsGreaterThan(0.0, r.Milliseconds, r.Shape);
            Assert.AreEqual(2.0 * r.M * r.N * r.K / (r.Milliseconds * 1e6), r.Gflops, 1e-9 * r.Gflops, $"{r.Shape}: GFLOP/s = 2mnk / time");
        }
        // 5 x 784x400 + 3 x 400x40 + 3 x 20x400 = 1,640,000 multiply-adds per sample: the 3.3 MFLOP of a step.
        Assert.AreEqual(3_280_000.0, GemmBenchmark.FlopsPerSample, 1e-6);
    }

    [TestMethod]
    public void RejectsNonPositiveRepeats()
    {
        using var acc = new CpuAccelerator();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GemmBenchmark.Run(acc, repeats: 0));
    }
}
