using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static IlgpuVae.Kernels.Cpu.CpuGemmMicroKernel;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Merges a micro-kernel tile into C. With several k-panels, the first panel writes
/// alpha * AB + beta * C (C unread when beta = 0), later panels add alpha * AB, and the last one adds
/// the bias and applies the activation, so C is touched once per panel and the epilogue costs no
/// extra pass over memory.
/// </summary>
internal readonly unsafe struct CpuGemmEpilogue
{
    public CpuGemmEpilogue(float alpha, float beta, float* bias, Activation activation, float slope)
    {
        Alpha = alpha; Beta = beta; Bias = bias; Activation = activation; Slope = slope;
    }

    public float Alpha { get; }
    public float Beta { get; }
    /// <summary>The bias at column 0 of C, or null.</summary>
    public float* Bias { get; }
    public Activation Activation { get; }
    public float Slope { get; }

    /// <summary>Stores rows x cols of tile (stride NR) into C at c (stride ldc); column j0 of C indexes the bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(float* tile, float* c, int ldc, int rows, int cols, int j0, bool first, bool last)
    {
        if (cols == NR && Avx.IsSupported) StoreFullWidth(tile, c, ldc, rows, j0, first, last);
        else StorePartial(tile, c, ldc, rows, cols, j0, first, last);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StoreFullWidth(float* tile, float* c, int ldc, int rows, int j0, bool first, bool last)
    {
        var alpha = Vector256.Create(Alpha);
        var beta = Vector256.Create(Beta);
        bool scale = Alpha != 1f, readC = !first || Beta != 0f, bias = last && Bias != null;
        var bias0 = bias ? Avx.LoadVector256(Bias + j0) : default;
        var bias1 = bias ? Avx.LoadVector256(Bias + j0 + 8) : default;
        for (int r = 0; r < rows; r++, tile += NR, c += ldc)
        {
            var v0 = Avx.LoadVector256(tile);
            var v1 = Avx.LoadVector256(tile + 8);
            if (scale) { v0 = Avx.Multiply(v0, alpha); v1 = Avx.Multiply(v1, alpha); }
            if (readC)
            {
                var c0 = Avx.LoadVector256(c);
                var c1 = Avx.LoadVector256(c + 8);
                if (first) { c0 = Avx.Multiply(c0, beta); c1 = Avx.Multiply(c1, beta); }
                v0 = Avx.Add(v0, c0); v1 = Avx.Add(v1, c1);
            }
            if (bias) { v0 = Avx.Add(v0, bias0); v1 = Avx.Add(v1, bias1); }
            if (last) { v0 = Activate(v0); v1 = Activate(v1); }
            Avx.Store(c, v0);
            Avx.Store(c + 8, v1);
            if (last && Activation is Activation.Tanh or Activation.Sigmoid)
                CpuActivations.Forward(Activation, new ReadOnlySpan<float>(c, NR), new Span<float>(c, NR), Slope);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StorePartial(float* tile, float* c, int ldc, int rows, int cols, int j0, bool first, bool last)
    {
        for (int r = 0; r < rows; r++, tile += NR, c += ldc)
        {
            for (int j = 0; j < cols; j++)
            {
                float v = Alpha * tile[j];
                if (!first) v += c[j];
                else if (Beta != 0f) v += Beta * c[j];
                if (last && Bias != null) v += Bias[j0 + j];
                c[j] = v;
            }
            if (last && Activation != Activation.Identity)
                CpuActivations.Forward(Activation, new ReadOnlySpan<float>(c, cols), new Span<float>(c, cols), Slope);
        }
    }

    /// <summary>The piecewise-linear activations in registers; tanh and sigmoid run after the store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Activate(Vector256<float> v) => Activation switch
    {
        Activation.Relu => Avx.Max(v, Vector256<float>.Zero),
        Activation.LeakyRelu => Avx.BlendVariable(Avx.Multiply(v, Vector256.Create(Slope)), v,
            Avx.Compare(v, Vector256<float>.Zero, FloatComparisonMode.OrderedGreaterThanNonSignaling)),
        _ => v,
    };
}
