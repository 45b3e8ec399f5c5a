using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static IlgpuVae.Kernels.Cpu.CpuGemmMicroKernel;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Packing of GEMM operands into the micro-kernel's layout. The transposes are resolved here, so the
/// micro-kernel sees one layout: A as slivers of MR rows (for each k: MR consecutive floats), B as
/// slivers of NR columns (for each k: NR consecutive floats). Rows or columns past the matrix edge are
/// zero, so edge tiles run the same kernel and the epilogue stores only the valid part.
/// </summary>
internal static unsafe class CpuGemmPacking
{
    /// <summary>Floats a packed-A buffer needs beyond MC x KC: the spare lanes of the last transposed store.</summary>
    public const int PackASlack = 8;

    /// <summary>
    /// Packs op(A)[i0 .. i0+mc, p0 .. p0+kc) where op(A) is m x k; A is stored m x k (N) or k x m (T).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(Transpose transA, float* a, int m, int k, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        if (mr != MR)
        {
            PackAWide(transA, a, m, k, i0, mc, p0, kc, mr, dst);
            return;
        }
        for (int s = 0; s < mc; s += MR)
        {
            int rows = Math.Min(MR, mc - s);
            int i = i0 + s;
            if (transA == Transpose.T)
            {
                // Stored k x m: the MR rows of one k step are contiguous.
                float* src = a + (long)p0 * m + i;
                if (rows == MR)
                {
                    // Six floats as one 16-byte and one 8-byte move; never reads past the sixth.
                    for (int p = 0; p < kc; p++, src += m, dst += MR)
                    {
                        *(Vector128<float>*)dst = *(Vector128<float>*)src;
                        *(ulong*)(dst + 4) = *(ulong*)(src + 4);
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += m, dst += MR)
                        for (int r = 0; r < MR; r++) dst[r] = r < rows ? src[r] : 0f;
                }
            }
            else
            {
                // Stored m x k: read MR rows side by side, each contiguous in k.
                float* r0 = a + (long)i * k + p0;
                if (rows == MR)
                {
                    float* r1 = r0 + k, r2 = r1 + k, r3 = r2 + k, r4 = r3 + k, r5 = r4 + k;
                    int p = 0;
                    if (Avx.IsSupported)
                    {
                        // 8 k-steps at a time: transpose 6 rows (the last one doubled to make 8) and store
                        // 8 floats per step 6 apart, in increasing order, so each store's two spare lanes
                        // are overwritten by the next one (the buffer has slack for the very last).
                        for (; p + 8 <= kc; p += 8, dst += 8 * MR)
                        {
                            var v5 = Avx.LoadVector256(r5 + p);
                            Transpose8x8(Avx.LoadVector256(r0 + p), Avx.LoadVector256(r1 + p), Avx.LoadVector256(r2 + p),
                                Avx.LoadVector256(r3 + p), Avx.LoadVector256(r4 + p), v5, v5, v5, dst, MR);
                        }
                    }
                    for (; p < kc; p++, dst += MR)
                    {
                        dst[0] = r0[p]; dst[1] = r1[p]; dst[2] = r2[p];
                        dst[3] = r3[p]; dst[4] = r4[p]; dst[5] = r5[p];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, dst += MR)
                        for (int r = 0; r < MR; r++) dst[r] = r < rows ? r0[(long)r * k + p] : 0f;
                }
            }
        }
    }

    /// <summary>PackA for the AVX-512 kernel's slivers of mr = 16 rows (any mr on the slow path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAWide(Transpose transA, float* a, int m, int k, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        for (int s = 0; s < mc; s += mr, dst += (long)mr * kc)
        {
            int rows = Math.Min(mr, mc - s);
            int i = i0 + s;
            bool fast = rows == mr && mr == CpuGemmAvx512Kernel.MR && Avx.IsSupported;
            if (transA == Transpose.T)
            {
                float* src = a + (long)p0 * m + i;
                float* d = dst;
                if (fast)
                {
                    for (int p = 0; p < kc; p++, src += m, d += mr)
                    {
                        Avx.Store(d, Avx.LoadVector256(src));
                        Avx.Store(d + 8, Avx.LoadVector256(src + 8));
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += m, d += mr)
                        for (int r = 0; r < mr; r++) d[r] = r < rows ? src[r] : 0f;
                }
            }
            else
            {
                float* src = a + (long)i * k + p0;
                if (fast) CpuGemmAvx512Kernel.PackRows(src, k, kc, dst);
                else
                {
                    float* d = dst;
                    for (int p = 0; p < kc; p++, d += mr)
                        for (int r = 0; r < mr; r++) d[r] = r < rows ? src[(long)r * k + p] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc) where op(B) is k x n; B is stored k x n (N) or n x k (T).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(Transpose transB, float* b, int k, int n, int p0, int kc, int j0, int nc, float* dst)
    {
        for (int t = 0; t < nc; t += NR)
        {
            int cols = Math.Min(NR, nc - t);
            int j = j0 + t;
            if (transB == Transpose.N)
            {
                // Stored k x n: the NR columns of one k step are contiguous.
                float* src = b + (long)p0 * n + j;
                if (cols == NR && Avx.IsSupported)
                {
                    for (int p = 0; p < kc; p++, src += n, dst += NR)
                    {
                        Avx.Store(dst, Avx.LoadVector256(src));
                        Avx.Store(dst + 8, Avx.LoadVector256(src + 8));
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += n, dst += NR)
                        for (int c = 0; c < NR; c++) dst[c] = c < cols ? src[c] : 0f;
                }
            }
            else
            {
                // Stored n x k: each column of op(B) is a contiguous row of B.
                float* src = b + (long)j * k + p0;
                if (cols == NR && Avx.IsSupported)
                {
                    TransposeSliver(src, k, kc, dst);
                }
                else
                {
                    for (int c = 0; c < NR; c++)
                    {
                        float* row = src + (long)c * k;
                        if (c < cols) for (int p = 0; p < kc; p++) dst[p * NR + c] = row[p];
                        else for (int p = 0; p < kc; p++) dst[p * NR + c] = 0f;
                    }
                }
                dst += kc * NR;
            }
        }
    }

    /// <summary>16 rows of kc floats (stride k) into kc steps of 16 floats, by 8 x 8 register transposes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeSliver(float* src, int k, int kc, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (int half = 0; half < 2; half++)
            {
                float* s = src + (long)half * 8 * k + p;
                Transpose8x8(s, k, dst + p * NR + half * 8, NR);
            }
        }
        for (; p < kc; p++)
            for (int c = 0; c < NR; c++) dst[p * NR + c] = src[(long)c * k + p];
    }

    /// <summary>dst[c * dstStride + r] = src[r * srcStride + c] for an 8 x 8 block.</summary>
    internal static void Transpose8x8(float* src, int srcStride, float* dst, int dstStride)
        => Transpose8x8(Avx.LoadVector256(src), Avx.LoadVector256(src + srcStride), Avx.LoadVector256(src + 2 * srcStride),
            Avx.LoadVector256(src + 3 * srcStride), Avx.LoadVector256(src + 4 * srcStride), Avx.LoadVector256(src + 5 * srcStride),
            Avx.LoadVector256(src + 6 * srcStride), Avx.LoadVector256(src + 7 * srcStride), dst, dstStride);

    /// <summary>Stores column c of the 8 x 8 block with rows r0..r7 as 8 floats at dst + c * dstStride, c ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, int dstStride)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
