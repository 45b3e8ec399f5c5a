using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The register-blocked inner kernels of the packed GEMM: an MR x NR tile of C from one packed A sliver
/// (kc steps of MR floats) and one packed B sliver (kc steps of NR floats). The tile is written, not
/// accumulated, to a dense MR x NR buffer; the epilogue merges it into C.
///
/// 6 x 16 with AVX2+FMA: 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers, and
/// 12 FMAs per 8 loads, which keeps both FMA pipes of a Zen 3 / Haswell-class core busy. Each element
/// of C is one sequential FMA chain over k, so the result does not depend on how the work is split.
/// </summary>
internal static unsafe class CpuGemmMicroKernel
{
    public const int MR = 6;
    public const int NR = 16;

    /// <summary>The best kernel this machine runs.</summary>
    public static CpuGemmKernel Best => CpuGemmAvx512Kernel.IsSupported ? CpuGemmKernel.Avx512
        : Fma.IsSupported && Avx2.IsSupported ? CpuGemmKernel.Avx2Fma
        : Vector128.IsHardwareAccelerated ? CpuGemmKernel.Vector128 : CpuGemmKernel.Scalar;

    /// <summary>The rows of A one call of the kernel computes (its tile is that many rows by NR).</summary>
    public static int RowsOf(CpuGemmKernel kernel) => kernel == CpuGemmKernel.Avx512 ? CpuGemmAvx512Kernel.MR : MR;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Fma(int kc, float* a, float* b, float* tile)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var av = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += MR;
            b += NR;
        }
        Avx.Store(tile, c00); Avx.Store(tile + 8, c01);
        Avx.Store(tile + 16, c10); Avx.Store(tile + 24, c11);
        Avx.Store(tile + 32, c20); Avx.Store(tile + 40, c21);
        Avx.Store(tile + 48, c30); Avx.Store(tile + 56, c31);
        Avx.Store(tile + 64, c40); Avx.Store(tile + 72, c41);
        Avx.Store(tile + 80, c50); Avx.Store(tile + 88, c51);
    }

    /// <summary>
    /// The tile with 128-bit vectors (SSE, or NEON on ARM64), one 8-column half at a time so that the
    /// 12 accumulators fit the 16 registers of SSE. Multiply and add are separate (not every 128-bit
    /// target has FMA).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vector128Kernel(int kc, float* a, float* b, float* tile)
    {
        for (int half = 0; half < NR; half += 8)
        {
            Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            float* ap = a, bp = b + half;
            for (int p = 0; p < kc; p++, ap += MR, bp += NR)
            {
                var b0 = Vector128.Load(bp);
                var b1 = Vector128.Load(bp + 4);
                var av = Vector128.Create(ap[0]);
                c00 += av * b0; c01 += av * b1;
                av = Vector128.Create(ap[1]);
                c10 += av * b0; c11 += av * b1;
                av = Vector128.Create(ap[2]);
                c20 += av * b0; c21 += av * b1;
                av = Vector128.Create(ap[3]);
                c30 += av * b0; c31 += av * b1;
                av = Vector128.Create(ap[4]);
                c40 += av * b0; c41 += av * b1;
                av = Vector128.Create(ap[5]);
                c50 += av * b0; c51 += av * b1;
            }
            float* t = tile + half;
            c00.Store(t); c01.Store(t + 4); c10.Store(t + NR); c11.Store(t + NR + 4);
            c20.Store(t + 2 * NR); c21.Store(t + 2 * NR + 4); c30.Store(t + 3 * NR); c31.Store(t + 3 * NR + 4);
            c40.Store(t + 4 * NR); c41.Store(t + 4 * NR + 4); c50.Store(t + 5 * NR); c51.Store(t + 5 * NR + 4);
        }
    }

    /// <summary>The same tile without SIMD: the fallback of last resort, and a cross-check in tests.</summary>
    public static void Scalar(int kc, float* a, float* b, float* tile)
    {
        for (int i = 0; i < MR * NR; i++) tile[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < MR; r++)
            {
                float av = a[r];
                float* row = tile + r * NR;
                for (int c = 0; c < NR; c++) row[c] += av * b[c];
            }
            a += MR;
            b += NR;
        }
    }
}

/// <summary>The micro-kernels, from the portable one up; a machine runs the best it supports.</summary>
internal enum CpuGemmKernel { Scalar, Vector128, Avx2Fma, Avx512 }
