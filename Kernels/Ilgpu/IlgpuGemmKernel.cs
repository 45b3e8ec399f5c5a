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
/// The thread shape of a GEMM group, a type so that each shape is its own compiled kernel (ILGPU
/// specialises generic kernels; the sizes become constants). Every thread computes a 4x4 block, so a
/// group of ThreadsM x ThreadsN threads computes a (4 ThreadsM) x (4 ThreadsN) tile of C.
/// </summary>
internal interface IGemmTileShape
{
    int ThreadsM { get; }
    int ThreadsN { get; }
    /// <summary>The depth of the k-slices staged in shared memory: two barriers per slice.</summary>
    int TileK { get; }
    /// <summary>Floats of each shared array: TileK rows of the tile side plus one of padding.</summary>
    int SharedLength { get; }
}

/// <summary>GPUs: 16 x 16 threads, a 64x64 tile of C, 16-deep k-slices (8.3 KB of shared memory).</summary>
internal readonly struct GemmTile64x64 : IGemmTileShape
{
    public int ThreadsM => 16;
    public int ThreadsN => 16;
    public int TileK => 16;
    public int SharedLength => 16 * 65;
}

/// <summary>
/// ILGPU's CPU accelerator: 4 x 8 threads (one 32-thread warp), a 16x32 tile of C, 128-deep k-slices.
/// Its launches wake as many OS threads as the largest group ever launched and each barrier is an OS
/// wait of every thread, so one warp a group and few, deep slices keep the GEMM there fast.
/// </summary>
internal readonly struct GemmTile16x32 : IGemmTileShape
{
    public int ThreadsM => 4;
    public int ThreadsN => 8;
    public int TileK => 128;
    public int SharedLength => 128 * 33;
}

/// <summary>
/// C = act(alpha op(A) op(B) + beta C + bias), row-major, op in {N, T}, tiled in shared memory.
/// A group of ThreadsM x ThreadsN threads computes a tile of C, each thread a 4x4
/// block strided by ThreadsM rows and ThreadsN columns (so the threads of a row read consecutive
/// shared-memory words); TileK-deep slices of op(A) and op(B) are staged in shared memory, zero-padded
/// past the ragged edges. Each output is one sum over k in a fixed order: the same bits every run.
///
/// Transposition is a runtime stride pair, not a kernel variant: element (i, p) of op(A) is
/// a[i * aStrideI + p * aStrideP] with strides (k, 1) for N and (1, m) for T; element (p, j) of op(B)
/// is b[p * bStrideP + j * bStrideJ] with strides (n, 1) for N and (1, k) for T.
/// </summary>
internal static class IlgpuGemmKernel
{
    public const int Work = 4;

    /// <summary>The launch: one group of ThreadsN x ThreadsM threads per tile of C.</summary>
    public static KernelConfig Config<TShape>(int m, int n) where TShape : struct, IGemmTileShape
    {
        var shape = default(TShape);
        int tileM = Work * shape.ThreadsM, tileN = Work * shape.ThreadsN;
        return new(new Index2D((n + tileN - 1) / tileN, (m + tileM - 1) / tileM), new Index2D(shape.ThreadsN, shape.ThreadsM));
    }

    /// <summary>Without a bias, bias is any valid view (never read).</summary>
    public static void Tiled<TShape>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, GemmArgs args)
        where TShape : struct, IGemmTileShape
    {
        var shape = default(TShape);
        // A constant once the kernel is specialised: shared memory is sized at compile time.
        var aTile = SharedMemory.Allocate<float>(shape.SharedLength);
        var bTile = SharedMemory.Allocate<float>(shape.SharedLength);

        int threadsM = shape.ThreadsM, threadsN = shape.ThreadsN, threads = threadsM * threadsN, tileK = shape.TileK;
        int tileM = Work * threadsM, tileN = Work * threadsN;
        // One float of padding per shared row breaks the power-of-two stride (bank conflicts).
        int strideA = tileM + 1, strideB = tileN + 1;

        int m = args.M, n = args.N, k = args.K;
        bool transA = args.TransA != 0, transB = args.TransB != 0;
        int aStrideI = transA ? 1 : k, aStrideP = transA ? m : 1;
        int bStrideP = transB ? 1 : n, bStrideJ = transB ? k : 1;
        int tx = Group.IdxX, ty = Group.IdxY;
        int tid = ty * threadsN + tx;
        int row0 = Grid.IdxY * tileM, col0 = Grid.IdxX * tileN;

        Float4 acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int p0 = 0; p0 < k; p0 += tileK)
        {
            // The faster-moving tile index follows the operand's contiguous dimension (coalesced reads).
            for (int l = tid; l < tileK * tileM; l += threads)
            {
                int i = transA ? l % tileM : l / tileK;
                int p = transA ? l / tileM : l % tileK;
                int gi = row0 + i, gp = p0 + p;
                aTile[p * strideA + i] = gi < m && gp < k ? a[gi * aStrideI + gp * aStrideP] : 0f;
            }
            for (int l = tid; l < tileK * tileN; l += threads)
            {
                int j = transB ? l / tileK : l % tileN;
                int p = transB ? l % tileK : l / tileN;
                int gj = col0 + j, gp = p0 + p;
                bTile[p * strideB + j] = gj < n && gp < k ? b[gp * bStrideP + gj * bStrideJ] : 0f;
            }
            Group.Barrier();

            for (int p = 0; p < tileK; p++)
            {
                int bRow = p * strideB + tx, aRow = p * strideA + ty;
                Float4 bReg;
                bReg.X = bTile[bRow];
                bReg.Y = bTile[bRow + threadsN];
                bReg.Z = bTile[bRow + 2 * threadsN];
                bReg.W = bTile[bRow + 3 * threadsN];
                acc0.MultiplyAdd(aTile[aRow], bReg);
                acc1.MultiplyAdd(aTile[aRow + threadsM], bReg);
                acc2.MultiplyAdd(aTile[aRow + 2 * threadsM], bReg);
                acc3.MultiplyAdd(aTile[aRow + 3 * threadsM], bReg);
            }
            Group.Barrier();
        }

        Store(c, bias, args, row0 + ty, col0 + tx, threadsN, acc0);
        Store(c, bias, args, row0 + ty + threadsM, col0 + tx, threadsN, acc1);
        Store(c, bias, args, row0 + ty + 2 * threadsM, col0 + tx, threadsN, acc2);
        Store(c, bias, args, row0 + ty + 3 * threadsM, col0 + tx, threadsN, acc3);
    }

    /// <summary>The epilogue of one row of a thread's block: columns j, j + s, j + 2s, j + 3s (s = ThreadsN).</summary>
    private static void Store(ArrayView<float> c, ArrayView<float> bias, GemmArgs args, int i, int j, int columnStride, in Float4 sums)
    {
        if (i >= args.M) return;
        for (int w = 0; w < Work; w++)
        {
            int column = j + w * columnStride;
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
