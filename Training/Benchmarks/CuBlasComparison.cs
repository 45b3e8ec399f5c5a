using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Ilgpu;

namespace IlgpuVae.Training.Benchmarks;

/// <summary>
/// Our GEMM and cuBLAS's on one shape: median milliseconds of each, and how far apart their results are
/// (the largest difference relative to the largest |C|: both compute the same product in float32).
/// </summary>
public sealed record CuBlasComparisonResult(string Shape, Transpose TransA, Transpose TransB, int M, int N, int K,
    double OursMilliseconds, double CuBlasMilliseconds, double RelativeDifference)
{
    public double OursGflops => 2.0 * M * N * K / (OursMilliseconds * 1e-3) / 1e9;
    public double CuBlasGflops => 2.0 * M * N * K / (CuBlasMilliseconds * 1e-3) / 1e9;

    /// <summary>Our speed as a fraction of cuBLAS's (1 = as fast).</summary>
    public double Ratio => CuBlasMilliseconds / OursMilliseconds;
}

/// <summary>
/// Our GEMM beside cuBLAS on a CUDA device: the VAE's shapes and a 4096^3 square, plain GEMMs (alpha 1,
/// beta 0, no epilogue, as cuBLAS computes them), the same inputs on both. Only for a CUDA accelerator:
/// it opens the same GPU a second time through ILGPU with cuBLAS (<see cref="CuBlasGemm"/>).
/// </summary>
public static class CuBlasComparison
{
    /// <summary>The large square shape: where a GEMM reaches the GPU's peak, if it can.</summary>
    public const int SquareSize = 4096;

    public static IReadOnlyList<GemmBenchmark.Shape> Shapes { get; } =
    [
        .. GemmBenchmark.VaeShapes.Select(s => s with { Epilogue = null }),
        new GemmBenchmark.Shape($"square {SquareSize}", Transpose.N, Transpose.N, SquareSize, SquareSize, SquareSize, null),
    ];

    /// <summary>Runs every shape on <paramref name="accelerator"/> (a cuda:N device) and on cuBLAS on the same GPU.</summary>
    public static IReadOnlyList<CuBlasComparisonResult> Run(Accelerator accelerator, int repeats)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.Kind != BackendKind.Cuda)
            throw new ArgumentException($"the cuBLAS comparison needs a CUDA device, not {accelerator.Specifier}", nameof(accelerator));
        int index = int.Parse(accelerator.Specifier.AsSpan(accelerator.Specifier.IndexOf(':') + 1), System.Globalization.CultureInfo.InvariantCulture);
        using var cublas = CuBlasGemm.Open(index);
        var results = new List<CuBlasComparisonResult>(Shapes.Count);
        foreach (var shape in Shapes)
        {
            var random = new Random(shape.M * 31 + shape.N * 7 + shape.K);
            float[] a = GemmBenchmark.RandomValues(random, shape.M * shape.K);
            float[] b = GemmBenchmark.RandomValues(random, shape.K * shape.N);
            var (ours, oursMs) = TimeOurs(accelerator, shape, a, b, repeats);
            var (theirs, cublasMs) = cublas.Run(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, a, b, repeats);
            results.Add(new CuBlasComparisonResult(shape.Name, shape.TransA, shape.TransB, shape.M, shape.N, shape.K,
                oursMs, cublasMs, RelativeDifference(ours, theirs)));
        }
        return results;
    }

    private static (float[] C, double Milliseconds) TimeOurs(Accelerator acc, GemmBenchmark.Shape shape, float[] a, float[] b, int repeats)
    {
        using var da = acc.Upload<float>(a);
        using var db = acc.Upload<float>(b);
        using var dc = acc.Allocate<float>(shape.M * shape.N);
        void Once() => acc.Gemm(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, 1f, da, db, 0f, dc, Epilogue.None);
        Once();
        float[] c = acc.Download(dc.View);
        return (c, MedianTimer.Milliseconds(Once, acc.Synchronize, repeats));
    }

    /// <summary>max |x - y| / max |y|: 0 for equal results, ~1e-6 for float32 sums in a different order.</summary>
    public static double RelativeDifference(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"{x.Length} and {y.Length} elements");
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < x.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)x[i] - y[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs((double)y[i]));
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }
}
