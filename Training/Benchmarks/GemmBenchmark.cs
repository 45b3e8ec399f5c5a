using System.Diagnostics;
using IlgpuVae.Kernels;

namespace IlgpuVae.Training.Benchmarks;

/// <summary>One timed GEMM shape: the median time of the repeats and the GFLOP/s it gives (2mnk flops).</summary>
public sealed record GemmBenchmarkResult(string Shape, Transpose TransA, Transpose TransB, int M, int N, int K,
    double Milliseconds, double Gflops);

/// <summary>
/// Times the GEMMs of one training step of the default VAE (784-400-20-400-784, batch 128) on any
/// accelerator. Weights are stored PyTorch-style [out, in], so the forward pass is y = x W^T (N,T),
/// the input gradient dX = dY W (N,N) and the weight gradient dW = dY^T X (T,N); the first layer has
/// no input gradient. The forward shapes run with their fused epilogue (bias, and ReLU on the hidden
/// layers), as the model runs them.
/// </summary>
public static class GemmBenchmark
{
    /// <summary>One GEMM of the benchmark: row-major C[M,N] = op(A) op(B), with a fused bias and activation when Epilogue is set.</summary>
    public sealed record Shape(string Name, Transpose TransA, Transpose TransB, int M, int N, int K, Activation? Epilogue);

    private const int Batch = 128, Input = 784, Hidden = 400, Latent = 20;

    /// <summary>The GEMMs of one training step of the default VAE at batch 128.</summary>
    public static IReadOnlyList<Shape> VaeShapes { get; } =
    [
        new("enc1 forward", Transpose.N, Transpose.T, Batch, Hidden, Input, Activation.Relu),
        new("enc2 forward", Transpose.N, Transpose.T, Batch, 2 * Latent, Hidden, Activation.Identity),
        new("dec1 forward", Transpose.N, Transpose.T, Batch, Hidden, Latent, Activation.Relu),
        new("dec2 forward", Transpose.N, Transpose.T, Batch, Input, Hidden, Activation.Identity),
        new("dec2 dX", Transpose.N, Transpose.N, Batch, Hidden, Input, null),
        new("dec1 dX", Transpose.N, Transpose.N, Batch, Latent, Hidden, null),
        new("enc2 dX", Transpose.N, Transpose.N, Batch, Hidden, 2 * Latent, null),
        new("dec2 dW", Transpose.T, Transpose.N, Input, Hidden, Batch, null),
        new("dec1 dW", Transpose.T, Transpose.N, Hidden, Latent, Batch, null),
        new("enc2 dW", Transpose.T, Transpose.N, 2 * Latent, Hidden, Batch, null),
        new("enc1 dW", Transpose.T, Transpose.N, Hidden, Input, Batch, null),
    ];

    /// <summary>Number of floating-point operations of one training step's GEMMs per sample.</summary>
    public static double FlopsPerSample => VaeShapes.Sum(s => 2.0 * s.M * s.N * s.K) / Batch;

    /// <summary>
    /// Times each shape: two warm-up calls, then repeats timed calls, each followed by Synchronize so
    /// asynchronous backends are timed to completion; the median is reported (robust to other load).
    /// </summary>
    public static IReadOnlyList<GemmBenchmarkResult> Run(Accelerator accelerator, int repeats = 20)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var results = new List<GemmBenchmarkResult>(VaeShapes.Count);
        foreach (var shape in VaeShapes) results.Add(Time(accelerator, shape, repeats));
        return results;
    }

    private static GemmBenchmarkResult Time(Accelerator acc, Shape shape, int repeats)
    {
        var random = new Random(shape.M * 31 + shape.N * 7 + shape.K);
        using var a = acc.Upload<float>(RandomValues(random, shape.M * shape.K));
        using var b = acc.Upload<float>(RandomValues(random, shape.K * shape.N));
        using var bias = acc.Upload<float>(RandomValues(random, shape.N));
        using var c = acc.Allocate<float>(shape.M * shape.N);
        var epilogue = shape.Epilogue is { } activation ? Epilogue.WithBias(bias, activation) : Epilogue.None;

        void Once() => acc.Gemm(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, 1f, a, b, 0f, c, epilogue);

        Once();
        Once();
        acc.Synchronize();
        double median = MedianTimer.Milliseconds(Once, acc.Synchronize, repeats);
        double gflops = 2.0 * shape.M * shape.N * shape.K / (median * 1e-3) / 1e9;
        return new GemmBenchmarkResult(shape.Name, shape.TransA, shape.TransB, shape.M, shape.N, shape.K, median, gflops);
    }

    /// <summary>Uniform values in [-1, 1) from a seeded generator: the same inputs on every backend.</summary>
    public static float[] RandomValues(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
