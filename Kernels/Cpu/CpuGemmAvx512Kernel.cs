using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The AVX-512 micro-kernel: a 16 x 16 tile of C, one zmm register a row.
///
/// Why 16 x 16 and not a wider 12 x 32 or 14 x 32 tile: the tile keeps NR = 16, so B is packed and C is
/// stored exactly as for the AVX2 kernel, and only A's sliver grows from 6 to 16 rows. Every element
/// of C is then the same FMA chain over k, in the same order and with the same k-panels, as on the
/// AVX2 kernel: the two kernels give bit-identical results (a test holds them to it). 16 also divides
/// the VAE's dimensions (128, 400, 784), where 12 or 14 rows leave a part-empty tile; 32 columns would
/// waste 12 of 32 on n = 20 and 24 of 64 on n = 40. Registers: 16 accumulators + 1 B vector, with the
/// A values broadcast from memory, well inside the 32 zmm registers.
///
/// Zen 4 executes a 512-bit FMA as two 256-bit halves, so the peak is the same as AVX2's; the gain is
/// in the front end: 17 instructions per k-step for 256 multiply-adds, against 20 for 96 with AVX2.
/// </summary>
internal static unsafe class CpuGemmAvx512Kernel
{
    public const int MR = 16;
    public const int NR = CpuGemmMicroKernel.NR;

    public static bool IsSupported => Avx512F.IsSupported && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* tile)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int p = 0; p < kc; p++)
        {
            var bv = Avx512F.LoadVector512(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), bv, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), bv, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), bv, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), bv, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), bv, c7);
            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[8]), bv, c8);
            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[9]), bv, c9);
            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[10]), bv, c10);
            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[11]), bv, c11);
            c12 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[12]), bv, c12);
            c13 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[13]), bv, c13);
            c14 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[14]), bv, c14);
            c15 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[15]), bv, c15);
            a += MR;
            b += NR;
        }
        Avx512F.Store(tile, c0); Avx512F.Store(tile + 16, c1); Avx512F.Store(tile + 32, c2); Avx512F.Store(tile + 48, c3);
        Avx512F.Store(tile + 64, c4); Avx512F.Store(tile + 80, c5); Avx512F.Store(tile + 96, c6); Avx512F.Store(tile + 112, c7);
        Avx512F.Store(tile + 128, c8); Avx512F.Store(tile + 144, c9); Avx512F.Store(tile + 160, c10); Avx512F.Store(tile + 176, c11);
        Avx512F.Store(tile + 192, c12); Avx512F.Store(tile + 208, c13); Avx512F.Store(tile + 224, c14); Avx512F.Store(tile + 240, c15);
    }

    /// <summary>
    /// The same tile for a last column block of at most 8 columns (n = 20 leaves 4, n = 40 leaves 8): the
    /// left half of each packed B row in a ymm register, so a skinny GEMM does not pay for 16 columns
    /// where it has 4. Each element is the same FMA chain as in <see cref="Run"/>, so results are the
    /// same bits; only columns 0-7 of each tile row are written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunNarrow(int kc, float* a, float* b, float* tile)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector256<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int p = 0; p < kc; p++)
        {
            var bv = Avx.LoadVector256(b);
            c0 = Fma.MultiplyAdd(Vector256.Create(a[0]), bv, c0);
            c1 = Fma.MultiplyAdd(Vector256.Create(a[1]), bv, c1);
            c2 = Fma.MultiplyAdd(Vector256.Create(a[2]), bv, c2);
            c3 = Fma.MultiplyAdd(Vector256.Create(a[3]), bv, c3);
            c4 = Fma.MultiplyAdd(Vector256.Create(a[4]), bv, c4);
            c5 = Fma.MultiplyAdd(Vector256.Create(a[5]), bv, c5);
            c6 = Fma.MultiplyAdd(Vector256.Create(a[6]), bv, c6);
            c7 = Fma.MultiplyAdd(Vector256.Create(a[7]), bv, c7);
            c8 = Fma.MultiplyAdd(Vector256.Create(a[8]), bv, c8);
            c9 = Fma.MultiplyAdd(Vector256.Create(a[9]), bv, c9);
            c10 = Fma.MultiplyAdd(Vector256.Create(a[10]), bv, c10);
            c11 = Fma.MultiplyAdd(Vector256.Create(a[11]), bv, c11);
            c12 = Fma.MultiplyAdd(Vector256.Create(a[12]), bv, c12);
            c13 = Fma.MultiplyAdd(Vector256.Create(a[13]), bv, c13);
            c14 = Fma.MultiplyAdd(Vector256.Create(a[14]), bv, c14);
            c15 = Fma.MultiplyAdd(Vector256.Create(a[15]), bv, c15);
            a += MR;
            b += NR;
        }
        Avx.Store(tile, c0); Avx.Store(tile + 16, c1); Avx.Store(tile + 32, c2); Avx.Store(tile + 48, c3);
        Avx.Store(tile + 64, c4); Avx.Store(tile + 80, c5); Avx.Store(tile + 96, c6); Avx.Store(tile + 112, c7);
        Avx.Store(tile + 128, c8); Avx.Store(tile + 144, c9); Avx.Store(tile + 160, c10); Avx.Store(tile + 176, c11);
        Avx.Store(tile + 192, c12); Avx.Store(tile + 208, c13); Avx.Store(tile + 224, c14); Avx.Store(tile + 240, c15);
    }

    /// <summary>
    /// Packs 16 rows of A stored m x k (each row contiguous in k, stride k) into kc steps of 16 floats:
    /// two 8 x 8 register transposes per 8 k-steps, rows 0-7 then 8-15 of each step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows(float* src, int k, int kc, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8, dst += 8 * MR)
        {
            CpuGemmPacking.Transpose8x8(src + p, k, dst, MR);
            CpuGemmPacking.Transpose8x8(src + 8L * k + p, k, dst + 8, MR);
        }
        for (; p < kc; p++, dst += MR)
            for (int r = 0; r < MR; r++) dst[r] = src[(long)r * k + p];
    }
}
