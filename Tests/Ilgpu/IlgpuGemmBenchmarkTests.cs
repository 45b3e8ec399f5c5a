using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The ILGPU GEMM timed on the VAE's shapes (batch 128, 784-400-20-400-784: forward, input gradient and
/// weight gradient), each dimension shrunk eightfold since ILGPU's CPU accelerator runs one OS thread
/// per GPU thread, beside the CPU backend in the same run. The rates say nothing about a GPU (`ilgpu-vae
/// bench --device cuda` measures that); the test keeps the timing loop honest: every result is checked
/// against the CPU's, so a fast wrong kernel cannot pass, and both tile shapes are timed.
/// </summary>
[TestClass]
public sealed class IlgpuGemmBenchmarkTests
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
    public void GemmThroughputOnTheShrunkVaeShapes()
    {
        using var ilgpu = IlgpuAccelerator.CreateCpu();
        using var cpu = new CpuAccelerator();
        TestContext.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd}  {ilgpu.Name} vs {cpu.Name}, shapes shrunk 8x");
        TestContext.WriteLine($"{"shape",-24} {"m x n x k",-12} {"tile",-10} {"ilgpu-cpu GFLOP/s",18} {"cpu GFLOP/s",12}");
        foreach (var (name, fullM, fullN, fullK, ta, tb) in Shapes)
        foreach (var tile in new[] { IlgpuGemmTile.Tile16x32, IlgpuGemmTile.Tile64x64 })
        {
            int m = fullM / 8, n = fullN / 8, k = fullK / 8;
            var rng = new Random(m + n + k);
            var a = Enumerable.Range(0, m * k).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
            ilgpu.GemmTile = tile;
            var (ilgpuRate, ilgpuResult) = Measure(ilgpu, ta, tb, m, n, k, a, b);
            var (cpuRate, cpuResult) = Measure(cpu, ta, tb, m, n, k, a, b);
            for (int i = 0; i < cpuResult.Length; i++)
                Assert.AreEqual(cpuResult[i], ilgpuResult[i], 1e-5 * k, $"{name} {tile}: element {i}");
            TestContext.WriteLine($"{name,-24} {$"{m}x{n}x{k}",-12} {tile,-10} {ilgpuRate,18:F3} {cpuRate,12:F1}");
            Assert.IsTrue(ilgpuRate > 0 && cpuRate > 0);
        }
    }

    /// <summary>Best of timed runs after a warm-up (which also compiles the kernel): at least two, and 0.1 s in all.</summary>
    private static (double GflopPerSecond, float[] Result) Measure(Accelerator acc, Transpose ta, Transpose tb, int m, int n, int k, float[] a, float[] b)
    {
        using var av = acc.Upload<float>(a);
        using var bv = acc.Upload<float>(b);
        using var c = acc.Allocate<float>(m * n);
        acc.Gemm(ta, tb, m, n, k, 1f, av, bv, 0f, c);
        acc.Synchronize();
        double best = double.MaxValue, total = 0;
        for (int run = 0; run < 20 && (run < 2 || total < 0.1); run++)
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
