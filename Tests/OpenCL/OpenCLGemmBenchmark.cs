using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// GEMM throughput on the VAE's shapes (batch 128, 784-400-20-400-784): forward, the input gradient and
/// the weight gradient, on the OpenCL device and the CPU accelerator in the same run. Prints GFLOP/s
/// (docs/benchmarks.md quotes them) and checks each OpenCL result against the CPU's, so a fast wrong
/// kernel cannot pass.
/// </summary>
[TestClass]
public sealed class OpenCLGemmBenchmark
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly (string Name, int M, int N, int K, Transpose A, Transpose B)[] Shapes =
    [
        ("encoder forward  X·W1^T", 128, 400, 784, Transpose.N, Transpose.T),
        ("decoder forward  H·W4^T", 128, 784, 400, Transpose.N, Transpose.T),
        ("encoder dX       dH·W1 ", 128, 784, 400, Transpose.N, Transpose.N),
        ("decoder dH       dY·W4 ", 128, 400, 784, Transpose.N, Transpose.N),
        ("encoder dW1      dH^T·X", 400, 784, 128, Transpose.T, Transpose.N),
        ("decoder dW4      dY^T·H", 784, 400, 128, Transpose.T, Transpose.N),
        ("latent heads     H·W^T ", 128, 40, 400, Transpose.N, Transpose.T),
    ];

    [TestMethod]
    public void GemmThroughputOnTheVaeShapes()
    {
        using var cl = OpenCLTestDevice.Open();
        using var cpu = new CpuAccelerator();
        TestContext.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd}  {cl.Name} vs {cpu.Name}");
        TestContext.WriteLine($"{"shape",-24} {"m x n x k",-16} {"kernel",-11} {"opencl GFLOP/s",15} {"cpu GFLOP/s",12}");
        foreach (var (name, m, n, k, ta, tb) in Shapes)
        {
            var a = OpenCLTestDevice.Random(m * k, seed: m + k);
            var b = OpenCLTestDevice.Random(k * n, seed: n + k);
            var (clRate, clResult) = Measure(cl, ta, tb, m, n, k, a, b);
            var (cpuRate, cpuResult) = Measure(cpu, ta, tb, m, n, k, a, b);
            for (int i = 0; i < cpuResult.Length; i++)
                Assert.AreEqual(cpuResult[i], clResult[i], 1e-5 * k, $"{name}: element {i}");
            string kernel = cl.SelectGemm(ta, tb, m, n, k).ToString().ToLowerInvariant();
            TestContext.WriteLine($"{name,-24} {$"{m}x{n}x{k}",-16} {kernel,-11} {clRate,15:F1} {cpuRate,12:F1}");
            Assert.IsTrue(clRate > 0 && cpuRate > 0);
        }
    }

    /// <summary>Best of timed runs after a warm-up (which also compiles the family): at least two, and 0.3 s in all.</summary>
    private static (double GflopPerSecond, float[] Result) Measure(Accelerator acc, Transpose ta, Transpose tb, int m, int n, int k, float[] a, float[] b)
    {
        using var av = acc.Upload<float>(a);
        using var bv = acc.Upload<float>(b);
        using var c = acc.Allocate<float>(m * n);
        acc.Gemm(ta, tb, m, n, k, 1f, av, bv, 0f, c);
        acc.Synchronize();
        double best = double.MaxValue, total = 0;
        for (int run = 0; run < 50 && (run < 2 || total < 0.3); run++)
        {
            var watch = Stopwatch.StartNew();
            acc.Gemm(ta, tb, m, n, k, 1f, av, bv, 0f, c);
            acc.Synchronize();
            double seconds = watch.Elapsed.TotalSeconds;
            best = Math.Min(best, seconds);
            total += seconds;
        }
        return (2.0 * m * n * k / best / 1e9, acc.Download(c.View));
    }
}
