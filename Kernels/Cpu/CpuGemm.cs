using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static IlgpuVae.Kernels.Cpu.CpuGemmMicroKernel;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The packed, cache-blocked GEMM of the CPU accelerator (the BLIS loop nest). C is split into a fixed
/// number of rectangles of whole tiles (twice the thread count), along whichever of m or n balances
/// better; each chunk runs the whole loop nest with its own packing buffers, so chunks never
/// synchronise. Threads claim chunks as they come free, so a thread that the OS delays does not hold
/// the others up, and every element of C is computed by the same sequence of operations whatever
/// thread runs it: results are bit-identical run to run and for any thread count.
///
/// Blocking for 32 KiB L1 / 512 KiB L2 per core: a packed B sliver (KC x NR, 16 KiB) stays in L1
/// while the packed A block (MC x KC, 144 KiB) streams from L2.
/// </summary>
internal static unsafe class CpuGemm
{
    public const int KC = 256;
    public const int MC = 144;
    public const int NC = 1024;

    // Below this many multiply-adds (about 4 us on one core) sharing costs more than it saves; the
    // accelerator's spinning workers take an op in well under a microsecond, so this can be low enough
    // for the latent layers (128 x 20 x 400 and the like) to use every core.
    private const long ParallelThreshold = 1 << 17;
    private const int ChunksPerThread = 2;

    public static void Run(CpuAccelerator acc, Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue)
    {
        var job = acc.GemmJob;
        lock (job)
        {
            job.TransA = transA; job.TransB = transB;
            job.M = m; job.N = n; job.K = k;
            job.A = Pointer(a); job.B = Pointer(b); job.C = Pointer(c);
            job.Epilogue = new CpuGemmEpilogue(alpha, beta, epilogue.Bias.IsNull ? null : Pointer(epilogue.Bias),
                epilogue.Activation, epilogue.LeakySlope);
            job.Kernel = acc.GemmKernel;
            // Equal k-panels, so no panel is a sliver: 784 = 4 x 196 rather than 3 x 256 + 16.
            int panels = (k + KC - 1) / KC;
            job.PanelK = (k + panels - 1) / panels;
            job.Plan((long)m * n * k < ParallelThreshold || acc.Threads == 1 ? 1 : acc.Threads * ChunksPerThread);
            if (job.Chunks == 1) job.RunChunk(0);
            else acc.Workers.Run(job.Chunks, job.Body);
        }
    }

    private static float* Pointer(DeviceView<float> view)
        => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(view.Array())) + view.Offset;

    /// <summary>One GEMM's arguments, its split, and the per-chunk packing buffers (reused across calls).</summary>
    internal sealed class Job
    {
        private readonly float[][] _packA;
        private readonly float[][] _packB;

        public Job(int threads)
        {
            _packA = new float[threads * ChunksPerThread][];
            _packB = new float[threads * ChunksPerThread][];
            Body = RunChunk;
        }

        public Action<int> Body { get; }
        public Transpose TransA, TransB;
        public int M, N, K, PanelK, Chunks;
        public float* A, B, C;
        public CpuGemmEpilogue Epilogue;
        public CpuGemmKernel Kernel;
        private bool _splitRows;
        private int _tiles;

        /// <summary>
        /// Splits C into at most maxChunks rectangles of whole tiles, along the side that gives the
        /// cheaper largest chunk. A chunk packs all of its rows of A and its columns of B, so the cost
        /// per k-step is rows x cols multiply-adds plus about PackCost per packed element.
        /// </summary>
        public void Plan(int maxChunks)
        {
            const long PackCost = 10;
            int mr = RowsOf(Kernel);
            int tilesM = (M + mr - 1) / mr, tilesN = (N + NR - 1) / NR;
            int chunks = Math.Max(1, Math.Min(maxChunks, Math.Max(tilesM, tilesN)));
            long rows = (long)tilesM * mr, cols = (long)tilesN * NR;
            long colsPerChunk = (long)((tilesN + chunks - 1) / chunks) * NR, rowsPerChunk = (long)((tilesM + chunks - 1) / chunks) * mr;
            long costSplitN = rows * colsPerChunk + PackCost * (rows + colsPerChunk);
            long costSplitM = rowsPerChunk * cols + PackCost * (rowsPerChunk + cols);
            _splitRows = costSplitM < costSplitN;
            _tiles = _splitRows ? tilesM : tilesN;
            Chunks = Math.Min(chunks, _tiles);
        }

        public void RunChunk(int chunk)
        {
            int t0 = (int)((long)_tiles * chunk / Chunks), t1 = (int)((long)_tiles * (chunk + 1) / Chunks);
            int r0 = 0, r1 = M, c0 = 0, c1 = N;
            int mr = RowsOf(Kernel);
            if (_splitRows) { r0 = t0 * mr; r1 = Math.Min(M, t1 * mr); }
            else { c0 = t0 * NR; c1 = Math.Min(N, t1 * NR); }
            if (r0 >= r1 || c0 >= c1) return;

            var packA = _packA[chunk] ??= GC.AllocateUninitializedArray<float>(MC * KC + CpuGemmPacking.PackASlack, pinned: true);
            var packB = _packB[chunk] ??= GC.AllocateUninitializedArray<float>(KC * NC, pinned: true);
            fixed (float* pa = packA, pb = packB)
                Compute(r0, r1, c0, c1, pa, pb);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Compute(int r0, int r1, int c0, int c1, float* packA, float* packB)
        {
            float* tile = stackalloc float[CpuGemmAvx512Kernel.MR * NR];
            var epilogue = Epilogue;
            var kernel = Kernel;
            int mr = RowsOf(kernel);
            for (int jc = c0; jc < c1; jc += NC)
            {
                int nc = Math.Min(NC, c1 - jc);
                for (int pc = 0; pc < K; pc += PanelK)
                {
                    int kc = Math.Min(PanelK, K - pc);
                    bool first = pc == 0, last = pc + kc == K;
                    CpuGemmPacking.PackB(TransB, B, K, N, pc, kc, jc, nc, packB);
                    for (int ic = r0; ic < r1; ic += MC)
                    {
                        int mc = Math.Min(MC, r1 - ic);
                        CpuGemmPacking.PackA(TransA, A, M, K, ic, mc, pc, kc, mr, packA);
                        for (int jr = 0; jr < nc; jr += NR)
                        {
                            int cols = Math.Min(NR, nc - jr);
                            float* bSliver = packB + (long)jr * kc;
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                float* aSliver = packA + (long)ir * kc;
                                switch (kernel)
                                {
                                    case CpuGemmKernel.Avx512:
                                        if (cols <= 8) CpuGemmAvx512Kernel.RunNarrow(kc, aSliver, bSliver, tile);
                                        else CpuGemmAvx512Kernel.Run(kc, aSliver, bSliver, tile);
                                        break;
                                    case CpuGemmKernel.Avx2Fma: Avx2Fma(kc, aSliver, bSliver, tile); break;
                                    case CpuGemmKernel.Vector128: Vector128Kernel(kc, aSliver, bSliver, tile); break;
                                    default: Scalar(kc, aSliver, bSliver, tile); break;
                                }
                                epilogue.Store(tile, C + (long)(ic + ir) * N + jc + jr, N, Math.Min(mr, mc - ir), cols, jc + jr, first, last);
                            }
                        }
                    }
                }
            }
        }
    }
}
