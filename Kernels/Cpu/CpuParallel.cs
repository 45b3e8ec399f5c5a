namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// Static partitioning of an index range over the accelerator's threads: chunk w is always the same
/// range, so an op's result never depends on scheduling. Small ranges run inline on the caller.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Runs body(start, end) over [0, length) in at most Threads equal chunks of at least minChunk.</summary>
    public static void For(CpuAccelerator acc, int length, int minChunk, Action<int, int> body)
    {
        if (length <= 0) return;
        int workers = (int)Math.Clamp((length + (long)minChunk - 1) / Math.Max(1, minChunk), 1, acc.Threads);
        if (workers == 1)
        {
            body(0, length);
            return;
        }
        acc.Workers.Run(workers, w =>
        {
            int start = (int)((long)length * w / workers), end = (int)((long)length * (w + 1) / workers);
            if (start < end) body(start, end);
        });
    }
}
