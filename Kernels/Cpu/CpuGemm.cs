using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static IlgpuVae.Kernels.Cpu.CpuGemmMicroKernel;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The packed, cache-blocked GEMM of the CPU accelerator (the BLIS loop nest). C is split statically
/// into one rectangle per worker, along whichever of m or n balances better; a worker runs the whole
/// loop nest over its rectangle with its own packing buffers, so workers never synchronise and every
/// element of C is computed by the same sequence of operations whatever the split: results are
/// bit-identical run to run and for any thread count.
///
/// Blocking for 32 KiB L1 / 512 KiB L2 per core: a packed B sliver (KC x NR, 16 KiB) stays in L1
/// while the packed A block (MC x KC, 144 KiB) streams from L2.
/// </summary>
internal static unsafe class CpuGemm
{
    public const int KC = 256;
    public const int MC = 144;
    public const int NC = 1024;

    // Below this many multiply-adds a fork costs more than it saves.
    private const long ParallelThreshold = 48 * 1024;

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
            job.Simd = acc.UseSimd && UseAvx2;
            // Equal k-panels, so no panel is a sliver: 784 = 4 x 196 rather than 3 x 256 + 16.
            int panels = (k + KC - 1) / KC;
            job.PanelK = (k + panels - 1) / panels;
            job.Plan((long)m * n * k < ParallelThreshold ? 1 : acc.Threads);
            if (job.Workers == 1) job.RunWorker(0);
            else Parallel.For(0, job.Workers, acc.Parallel, job.Body);
        }
    }

    private static float* Pointer(DeviceView<float> view)
        => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(view.Array())) + view.Offset;

    /// <summary>One GEMM's arguments, its split, and the per-worker packing buffers (reused across calls).</summary>
    internal sealed class Job
    {
        private readonly float[][] _packA;
        private readonly float[][] _packB;

        public Job(int maxWorkers)
        {
            _packA = new float[maxWorkers][];
            _packB = new float[maxWorkers][];
            Body = RunWorker;
        }

        public Action<int> Body { get; }
        public Transpose TransA, TransB;
        public int M, N, K, PanelK, Workers;
        public float* A, B, C;
        public CpuGemmEpilogue Epilogue;
        public bool Simd;
        private bool _splitRows;
        private int _tiles;

        /// <summary>Splits C into at most maxWorkers rectangles of whole tiles, along the better-balanced side.</summary>
        public void Plan(int maxWorkers)
        {
            int tilesM = (M + MR - 1) / MR, tilesN = (N + NR - 1) / NR;
            int workers = Math.Max(1, Math.Min(maxWorkers, Math.Max(tilesM, tilesN)));
            long costSplitN = (long)((tilesN + workers - 1) / workers) * tilesM;
            long costSplitM = (long)((tilesM + workers - 1) / workers) * tilesN;
            _splitRows = costSplitM < costSplitN;
            _tiles = _splitRows ? tilesM : tilesN;
            Workers = Math.Min(workers, _tiles);
        }

        public void RunWorker(int worker)
        {
            int t0 = (int)((long)_tiles * worker / Workers), t1 = (int)((long)_tiles * (worker + 1) / Workers);
            int r0 = 0, r1 = M, c0 = 0, c1 = N;
            if (_splitRows) { r0 = t0 * MR; r1 = Math.Min(M, t1 * MR); }
            else { c0 = t0 * NR; c1 = Math.Min(N, t1 * NR); }
            if (r0 >= r1 || c0 >= c1) return;

            var packA = _packA[worker] ??= GC.AllocateUninitializedArray<float>(MC * KC, pinned: true);
            var packB = _packB[worker] ??= GC.AllocateUninitializedArray<float>(KC * NC, pinned: true);
            fixed (float* pa = packA, pb = packB)
                Compute(r0, r1, c0, c1, pa, pb);
        }

        private void Compute(int r0, int r1, int c0, int c1, float* packA, float* packB)
        {
            float* tile = stackalloc float[MR * NR];
            var epilogue = Epilogue;
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
                        CpuGemmPacking.PackA(TransA, A, M, K, ic, mc, pc, kc, packA);
                        for (int jr = 0; jr < nc; jr += NR)
                        {
                            int cols = Math.Min(NR, nc - jr);
                            float* bSliver = packB + (long)jr * kc;
                            for (int ir = 0; ir < mc; ir += MR)
                            {
                                float* aSliver = packA + (long)ir * kc;
                                if (Simd) Avx2Fma(kc, aSliver, bSliver, tile);
                                else Scalar(kc, aSliver, bSliver, tile);
                                epilogue.Store(tile, C + (long)(ic + ir) * N + jc + jr, N, Math.Min(MR, mc - ir), cols, jc + jr, first, last);
                            }
                        }
                    }
                }
            }
        }
    }
}
