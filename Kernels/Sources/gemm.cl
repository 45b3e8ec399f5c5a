/*
 * gemm.cl: C[m,n] = act(alpha * op(A) op(B) + beta * C + bias), row-major, op in {N, T}.
 *
 * gemm_tiled: work-group tiles of GEMM_TS_M x GEMM_TS_N outputs, the k dimension walked in slices of
 * GEMM_TS_K staged through local memory, and each work-item accumulating a GEMM_WPT_M x GEMM_WPT_N
 * register block (Nugteren's myGEMM / CLBlast's xgemm_direct shape). A work-item's rows and columns are
 * strided by the work-group width, so neighbouring work-items touch neighbouring columns: stores stay
 * coalesced and local-memory reads conflict-free. Edges are zero-padded on load and masked on store,
 * so any shape is correct; gemm_direct, one work-item an output, is cheaper for small or thin shapes.
 *
 * gemm_blocked is for CPU devices (PoCL, CPU runtimes): a work-item computes a GEMM_BM x GEMM_BN
 * register block straight from global memory, with no local memory and no barrier. On a CPU, local
 * memory is ordinary cache-backed memory, and a barrier makes the runtime keep every private variable
 * that lives across it in per-work-item memory, so the tiled kernel's accumulators leave the registers;
 * measured on PoCL (AVX2), the barrier-free blocks run several times faster. 6 x 16 is the classic AVX2
 * shape: 12 eight-wide accumulators, two for a row of B, one broadcast of A.
 *
 * gemm_blocked_dot is the CPU kernel for op(A) op(B) = A B^T (both stored with k contiguous: every
 * forward layer, X W^T). The outer-product block above would gather B there; this one computes a
 * GEMM_DOT_M x GEMM_DOT_N block of dot products, each split into 8 lanes along k that a CPU compiler
 * maps onto one vector register (written out, since it may not reassociate a float reduction itself).
 *
 * Transposition is a runtime stride pair, not a kernel variant: element (i, p) of op(A) is
 * a[i * aStrideI + p * aStrideP] with strides (k, 1) for N and (1, m) for T; element (p, j) of op(B)
 * is b[p * bStrideP + j * bStrideJ] with strides (n, 1) for N and (1, k) for T.
 */
#include "activation.h"

#ifndef GEMM_TS_M
#define GEMM_TS_M 64
#endif
#ifndef GEMM_TS_N
#define GEMM_TS_N 64
#endif
#ifndef GEMM_TS_K
#define GEMM_TS_K 16
#endif
#ifndef GEMM_WPT_M
#define GEMM_WPT_M 4
#endif
#ifndef GEMM_WPT_N
#define GEMM_WPT_N 4
#endif

#ifndef GEMM_BM
#define GEMM_BM 6
#endif
#ifndef GEMM_BN
#define GEMM_BN 16
#endif

#ifndef GEMM_DOT_M
#define GEMM_DOT_M 4
#endif
#ifndef GEMM_DOT_N
#define GEMM_DOT_N 3
#endif
/* Fixed: the final lane sum below is written out for 8 (one AVX register of floats). */
#define GEMM_DOT_LANES 8

#define GEMM_THREADS_M (GEMM_TS_M / GEMM_WPT_M)
#define GEMM_THREADS_N (GEMM_TS_N / GEMM_WPT_N)
#define GEMM_THREADS (GEMM_THREADS_M * GEMM_THREADS_N)
/* One float of padding per local row breaks power-of-two strides (bank conflicts on GPUs). */
#define GEMM_PAD 1

/* The epilogue of one output element, shared by every kernel here. */
DEVICE_FN float gemm_epilogue(float sum, float alpha, float beta, GLOBAL const float* c, int index,
    GLOBAL const float* bias, int hasBias, int column, int activation, float slope)
{
    float value = alpha * sum;
    if (beta != 0.0f) value += beta * c[index];
    if (hasBias) value += bias[column];
    return activation_apply(activation, value, slope);
}

KERNEL void gemm_tiled(int transA, int transB, int m, int n, int k, float alpha,
    GLOBAL const float* RESTRICT a, int aOffset, GLOBAL const float* RESTRICT b, int bOffset,
    float beta, GLOBAL float* RESTRICT c, int cOffset,
    GLOBAL const float* RESTRICT bias, int biasOffset, int hasBias, int activation, float slope)
{
    LOCAL float aTile[GEMM_TS_K][GEMM_TS_M + GEMM_PAD];
    LOCAL float bTile[GEMM_TS_K][GEMM_TS_N + GEMM_PAD];

    GLOBAL const float* A = a + aOffset;
    GLOBAL const float* B = b + bOffset;
    GLOBAL float* C = c + cOffset;
    GLOBAL const float* bias0 = bias + biasOffset;

    const int aStrideI = transA ? 1 : k, aStrideP = transA ? m : 1;
    const int bStrideP = transB ? 1 : n, bStrideJ = transB ? k : 1;
    const int tx = LOCAL_ID(0), ty = LOCAL_ID(1);
    const int tid = ty * GEMM_THREADS_N + tx;
    const int row0 = GROUP_ID(1) * GEMM_TS_M, col0 = GROUP_ID(0) * GEMM_TS_N;

    float acc[GEMM_WPT_M][GEMM_WPT_N];
    for (int wm = 0; wm < GEMM_WPT_M; wm++)
        for (int wn = 0; wn < GEMM_WPT_N; wn++) acc[wm][wn] = 0.0f;

    for (int p0 = 0; p0 < k; p0 += GEMM_TS_K)
    {
        /* Stage the slices; the faster-moving tile index follows the operand's contiguous dimension. */
        for (int l = tid; l < GEMM_TS_K * GEMM_TS_M; l += GEMM_THREADS)
        {
            int i = transA ? l % GEMM_TS_M : l / GEMM_TS_K;
            int p = transA ? l / GEMM_TS_M : l % GEMM_TS_K;
            int gi = row0 + i, gp = p0 + p;
            aTile[p][i] = (gi < m && gp < k) ? A[gi * aStrideI + gp * aStrideP] : 0.0f;
        }
        for (int l = tid; l < GEMM_TS_K * GEMM_TS_N; l += GEMM_THREADS)
        {
            int j = transB ? l / GEMM_TS_K : l % GEMM_TS_N;
            int p = transB ? l % GEMM_TS_K : l / GEMM_TS_N;
            int gj = col0 + j, gp = p0 + p;
            bTile[p][j] = (gj < n && gp < k) ? B[gp * bStrideP + gj * bStrideJ] : 0.0f;
        }
        BARRIER();

        for (int p = 0; p < GEMM_TS_K; p++)
        {
            float bReg[GEMM_WPT_N];
            for (int wn = 0; wn < GEMM_WPT_N; wn++) bReg[wn] = bTile[p][tx + wn * GEMM_THREADS_N];
            for (int wm = 0; wm < GEMM_WPT_M; wm++)
            {
                float aValue = aTile[p][ty + wm * GEMM_THREADS_M];
                for (int wn = 0; wn < GEMM_WPT_N; wn++) acc[wm][wn] += aValue * bReg[wn];
            }
        }
        BARRIER();
    }

    for (int wm = 0; wm < GEMM_WPT_M; wm++)
    {
        int i = row0 + ty + wm * GEMM_THREADS_M;
        if (i >= m) continue;
        for (int wn = 0; wn < GEMM_WPT_N; wn++)
        {
            int j = col0 + tx + wn * GEMM_THREADS_N;
            if (j >= n) continue;
            C[i * n + j] = gemm_epilogue(acc[wm][wn], alpha, beta, C, i * n + j, bias0, hasBias, j, activation, slope);
        }
    }
}

KERNEL void gemm_direct(int transA, int transB, int m, int n, int k, float alpha,
    GLOBAL const float* RESTRICT a, int aOffset, GLOBAL const float* RESTRICT b, int bOffset,
    float beta, GLOBAL float* RESTRICT c, int cOffset,
    GLOBAL const float* RESTRICT bias, int biasOffset, int hasBias, int activation, float slope)
{
    const int j = GLOBAL_ID(0), i = GLOBAL_ID(1);
    if (i >= m || j >= n) return;
    GLOBAL const float* A = a + aOffset;
    GLOBAL const float* B = b + bOffset;
    GLOBAL float* C = c + cOffset;
    const int aStrideI = transA ? 1 : k, aStrideP = transA ? m : 1;
    const int bStrideP = transB ? 1 : n, bStrideJ = transB ? k : 1;
    GLOBAL const float* aLine = A + i * aStrideI;
    GLOBAL const float* bLine = B + j * bStrideJ;
    float sum = 0.0f;
    for (int p = 0; p < k; p++) sum += aLine[p * aStrideP] * bLine[p * bStrideP];
    C[i * n + j] = gemm_epilogue(sum, alpha, beta, C, i * n + j, bias + biasOffset, hasBias, j, activation, slope);
}

KERNEL void gemm_blocked(int transA, int transB, int m, int n, int k, float alpha,
    GLOBAL const float* RESTRICT a, int aOffset, GLOBAL const float* RESTRICT b, int bOffset,
    float beta, GLOBAL float* RESTRICT c, int cOffset,
    GLOBAL const float* RESTRICT bias, int biasOffset, int hasBias, int activation, float slope)
{
    const int j0 = GLOBAL_ID(0) * GEMM_BN, i0 = GLOBAL_ID(1) * GEMM_BM;
    if (i0 >= m || j0 >= n) return;
    GLOBAL const float* A = a + aOffset;
    GLOBAL const float* B = b + bOffset;
    GLOBAL float* C = c + cOffset;
    const int aStrideI = transA ? 1 : k, aStrideP = transA ? m : 1;
    const int bStrideP = transB ? 1 : n, bStrideJ = transB ? k : 1;

    /* Edge blocks read the last valid row or column again instead of branching in the k loop; the
       duplicates are never stored. */
    int rowOffset[GEMM_BM], colOffset[GEMM_BN];
    for (int x = 0; x < GEMM_BM; x++) rowOffset[x] = (i0 + x < m ? i0 + x : m - 1) * aStrideI;
    for (int y = 0; y < GEMM_BN; y++) colOffset[y] = (j0 + y < n ? j0 + y : n - 1) * bStrideJ;

    float acc[GEMM_BM][GEMM_BN];
    #pragma unroll
    for (int x = 0; x < GEMM_BM; x++)
    {
        #pragma unroll
        for (int y = 0; y < GEMM_BN; y++) acc[x][y] = 0.0f;
    }

    /* Fully unrolled, the block stays in registers (without the unroll a CPU compiler keeps it on the
       stack and every multiply-add goes through memory). A block of whole columns of a row-major B reads
       them as one contiguous run, which a CPU compiler turns into vector loads; the general path gathers. */
    if (bStrideJ == 1 && j0 + GEMM_BN <= n)
    {
        for (int p = 0; p < k; p++)
        {
            GLOBAL const float* aSlice = A + p * aStrideP;
            GLOBAL const float* bRun = B + p * bStrideP + j0;
            float bReg[GEMM_BN];
            #pragma unroll
            for (int y = 0; y < GEMM_BN; y++) bReg[y] = bRun[y];
            #pragma unroll
            for (int x = 0; x < GEMM_BM; x++)
            {
                float aValue = aSlice[rowOffset[x]];
                #pragma unroll
                for (int y = 0; y < GEMM_BN; y++) acc[x][y] += aValue * bReg[y];
            }
        }
    }
    else
    {
        for (int p = 0; p < k; p++)
        {
            GLOBAL const float* aSlice = A + p * aStrideP;
            GLOBAL const float* bSlice = B + p * bStrideP;
            float bReg[GEMM_BN];
            #pragma unroll
            for (int y = 0; y < GEMM_BN; y++) bReg[y] = bSlice[colOffset[y]];
            #pragma unroll
            for (int x = 0; x < GEMM_BM; x++)
            {
                float aValue = aSlice[rowOffset[x]];
                #pragma unroll
                for (int y = 0; y < GEMM_BN; y++) acc[x][y] += aValue * bReg[y];
            }
        }
    }

    for (int x = 0; x < GEMM_BM; x++)
    {
        int i = i0 + x;
        if (i >= m) break;
        for (int y = 0; y < GEMM_BN; y++)
        {
            int j = j0 + y;
            if (j >= n) break;
            C[i * n + j] = gemm_epilogue(acc[x][y], alpha, beta, C, i * n + j, bias + biasOffset, hasBias, j, activation, slope);
        }
    }
}

/* Only for transA = N, transB = T (the op mapping guarantees it): rows of A and of B run along k. */
KERNEL void gemm_blocked_dot(int transA, int transB, int m, int n, int k, float alpha,
    GLOBAL const float* RESTRICT a, int aOffset, GLOBAL const float* RESTRICT b, int bOffset,
    float beta, GLOBAL float* RESTRICT c, int cOffset,
    GLOBAL const float* RESTRICT bias, int biasOffset, int hasBias, int activation, float slope)
{
    const int j0 = GLOBAL_ID(0) * GEMM_DOT_N, i0 = GLOBAL_ID(1) * GEMM_DOT_M;
    if (i0 >= m || j0 >= n) return;
    GLOBAL float* C = c + cOffset;

    /* Edge blocks repeat the last row or column, as in gemm_blocked; the repeats are never stored. */
    GLOBAL const float* aRow[GEMM_DOT_M];
    GLOBAL const float* bRow[GEMM_DOT_N];
    #pragma unroll
    for (int x = 0; x < GEMM_DOT_M; x++) aRow[x] = a + aOffset + (i0 + x < m ? i0 + x : m - 1) * k;
    #pragma unroll
    for (int y = 0; y < GEMM_DOT_N; y++) bRow[y] = b + bOffset + (j0 + y < n ? j0 + y : n - 1) * k;

    float acc[GEMM_DOT_M][GEMM_DOT_N][GEMM_DOT_LANES];
    #pragma unroll
    for (int x = 0; x < GEMM_DOT_M; x++)
    {
        #pragma unroll
        for (int y = 0; y < GEMM_DOT_N; y++)
        {
            #pragma unroll
            for (int l = 0; l < GEMM_DOT_LANES; l++) acc[x][y][l] = 0.0f;
        }
    }

    int p0 = 0;
    for (; p0 + GEMM_DOT_LANES <= k; p0 += GEMM_DOT_LANES)
    {
        float aReg[GEMM_DOT_M][GEMM_DOT_LANES], bReg[GEMM_DOT_N][GEMM_DOT_LANES];
        #pragma unroll
        for (int x = 0; x < GEMM_DOT_M; x++)
        {
            #pragma unroll
            for (int l = 0; l < GEMM_DOT_LANES; l++) aReg[x][l] = aRow[x][p0 + l];
        }
        #pragma unroll
        for (int y = 0; y < GEMM_DOT_N; y++)
        {
            #pragma unroll
            for (int l = 0; l < GEMM_DOT_LANES; l++) bReg[y][l] = bRow[y][p0 + l];
        }
        #pragma unroll
        for (int x = 0; x < GEMM_DOT_M; x++)
        {
            #pragma unroll
            for (int y = 0; y < GEMM_DOT_N; y++)
            {
                #pragma unroll
                for (int l = 0; l < GEMM_DOT_LANES; l++) acc[x][y][l] += aReg[x][l] * bReg[y][l];
            }
        }
    }
    for (; p0 < k; p0++)
    {
        for (int x = 0; x < GEMM_DOT_M; x++)
            for (int y = 0; y < GEMM_DOT_N; y++) acc[x][y][0] += aRow[x][p0] * bRow[y][p0];
    }

    for (int x = 0; x < GEMM_DOT_M; x++)
    {
        int i = i0 + x;
        if (i >= m) break;
        for (int y = 0; y < GEMM_DOT_N; y++)
        {
            int j = j0 + y;
            if (j >= n) break;
            float sum = ((acc[x][y][0] + acc[x][y][4]) + (acc[x][y][1] + acc[x][y][5]))
                      + ((acc[x][y][2] + acc[x][y][6]) + (acc[x][y][3] + acc[x][y][7]));
            C[i * n + j] = gemm_epilogue(sum, alpha, beta, C, i * n + j, bias + biasOffset, hasBias, j, activation, slope);
        }
    }
}
