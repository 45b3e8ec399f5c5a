using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The scalars of a GEMM launch, as one kernel argument (flags as ints: a bool has no fixed device layout).</summary>
internal readonly struct GemmArgs
{
    public GemmArgs(Transpose transA, Transpose transB, int m, int n, int k, float alpha, float beta,
        bool hasBias, Activation activation, float slope)
    {
        TransA = (int)transA; TransB = (int)transB; M = m; N = n; K = k; Alpha = alpha; Beta = beta;
        HasBias = hasBias ? 1 : 0; Activation = (int)activation; Slope = slope;
    }

    public readonly int TransA, TransB, M, N, K;
    public readonly float Alpha, Beta;
    public readonly int HasBias, Activation;
    public readonly float Slope;
}

/// <summary>Four floats in registers: one row (or column) of a thread's 4x4 register block.</summary>
internal struct Float4
{
    public float X, Y, Z, W;

    public void MultiplyAdd(float a, in Float4 b)
    {
        X += a * b.X; Y += a * b.Y; Z += a * b.Z; W += a * b.W;
    }

    public readonly float this[int i] => i == 0 ? X : i == 1 ? Y : i == 2 ? Z : W;
}

/// <summary>
/// C = act(alpha op(A) op(B) + beta C + bias), row-major, op in {N, T}: the port of gemm_tiled
/// (Sources/gemm.cl). A group of 16x16 threads computes a 64x64 tile of C, each thread a 4x4 block
/// strided by 16 rows and 16 columns (so the threads of a row read consecutive shared-memory words);
/// 16-deep slices of op(A) and op(B) are staged in shared memory, zero-padded past the ragged edges.
/// Each output is one sum over k in a fixed order: the same bits every run on a device.
///
/// Transposition is a runtime stride pair, not a kernel variant: element (i, p) of op(A) is
/// a[i * aStrideI + p * aStrideP] with strides (k, 1) for N and (1, m) for T; element (p, j) of op(B)
/// is b[p * bStrideP + j * bStrideJ] with strides (n, 1) for N and (1, k) for T.
/// </summary>
internal static class IlgpuGemmKernel
{
    public const int TileM = 64, TileN = 64, TileK = 16, WorkM = 4, WorkN = 4;
    public const int ThreadsM = TileM / WorkM, ThreadsN = TileN / WorkN, Threads = ThreadsM * ThreadsN;
    /// <summary>One float of padding per shared row breaks the power-of-two stride (bank conflicts).</summary>
    private const int StrideA = TileM + 1, StrideB = TileN + 1;

    /// <summary>The launch: one group of ThreadsN x ThreadsM threads per 64x64 tile of C.</summary>
    public static KernelConfig Config(int m, int n)
        => new(new Index2D((n + TileN - 1) / TileN, (m + TileM - 1) / TileM), new Index2D(ThreadsN, ThreadsM));

    /// <summary>Without a bias, bias is any valid view (never read).</summary>
    public static void Tiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, GemmArgs args)
    {
        var aTile = SharedMemory.Allocate<float>(TileK * StrideA);
        var bTile = SharedMemory.Allocate<float>(TileK * StrideB);

        int m = args.M, n = args.N, k = args.K;
        bool transA = args.TransA != 0, transB = args.TransB != 0;
        int aStrideI = transA ? 1 : k, aStrideP = transA ? m : 1;
        int bStrideP = transB ? 1 : n, bStrideJ = transB ? k : 1;
        int tx = Group.IdxX, ty = Group.IdxY;
        int tid = ty * ThreadsN + tx;
        int row0 = Grid.IdxY * TileM, col0 = Grid.IdxX * TileN;

        Float4 acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int p0 = 0; p0 < k; p0 += TileK)
        {
            // The faster-moving tile index follows the operand's contiguous dimension (coalesced reads).
            for (int l = tid; l < TileK * TileM; l += Threads)
            {
                int i = transA ? l % TileM : l / TileK;
                int p = transA ? l / TileM : l % TileK;
                int gi = row0 + i, gp = p0 + p;
                aTile[p * StrideA + i] = gi < m && gp < k ? a[gi * aStrideI + gp * aStrideP] : 0f;
            }
            for (int l = tid; l < TileK * TileN; l += Threads)
            {
                int j = transB ? l / TileK : l % TileN;
                int p = transB ? l % TileK : l / TileN;
                int gj = col0 + j, gp = p0 + p;
                bTile[p * StrideB + j] = gj < n && gp < k ? b[gp * bStrideP + gj * bStrideJ] : 0f;
            }
            Group.Barrier();

            for (int p = 0; p < TileK; p++)
            {
                int bRow = p * StrideB + tx, aRow = p * StrideA + ty;
                Float4 bReg;
                bReg.X = bTile[bRow];
                bReg.Y = bTile[bRow + ThreadsN];
                bReg.Z = bTile[bRow + 2 * ThreadsN];
                bReg.W = bTile[bRow + 3 * ThreadsN];
                acc0.MultiplyAdd(aTile[aRow], bReg);
                acc1.MultiplyAdd(aTile[aRow + ThreadsM], bReg);
                acc2.MultiplyAdd(aTile[aRow + 2 * ThreadsM], bReg);
                acc3.MultiplyAdd(aTile[aRow + 3 * ThreadsM], bReg);
            }
            Group.Barrier();
        }

        Store(c, bias, args, row0 + ty, col0 + tx, acc0);
        Store(c, bias, args, row0 + ty + ThreadsM, col0 + tx, acc1);
        Store(c, bias, args, row0 + ty + 2 * ThreadsM, col0 + tx, acc2);
        Store(c, bias, args, row0 + ty + 3 * ThreadsM, col0 + tx, acc3);
    }

    /// <summary>The epilogue of one row of a thread's block: columns j, j + 16, j + 32, j + 48.</summary>
    private static void Store(ArrayView<float> c, ArrayView<float> bias, GemmArgs args, int i, int j, in Float4 sums)
    {
        if (i >= args.M) return;
        for (int w = 0; w < WorkN; w++)
        {
            int column = j + w * ThreadsN;
            if (column >= args.N) return;
            int index = i * args.N + column;
            // Same order as the CPU reference: alpha * AB, then beta * C (C unread when beta = 0), then bias.
            float value = args.Alpha * sums[w];
            if (args.Beta != 0f) value += args.Beta * c[index];
            if (args.HasBias != 0) value += bias[column];
            c[index] = IlgpuActivationMath.Apply(args.Activation, value, args.Slope);
        }
    }
}
