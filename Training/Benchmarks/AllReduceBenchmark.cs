using System.Diagnostics;
using IlgpuVae.Model;
using IlgpuVae.Training.Distributed;

namespace IlgpuVae.Training.Benchmarks;

/// <summary>What one all-reduce of a parallel training step costs.</summary>
public sealed record AllReduceResult(int Ranks, string Communicator, int Floats, double MedianMilliseconds, double MinMilliseconds, double MaxMilliseconds)
{
    /// <summary>Bytes each rank sends and receives in a ring all-reduce, per second: 2 (n-1)/n of the buffer per call.</summary>
    public double BusGigabytesPerSecond => Ranks < 2 ? 0 : 2.0 * (Ranks - 1) / Ranks * Floats * sizeof(float) / (MedianMilliseconds * 1e6);
}

/// <summary>
/// Times the collective a parallel training step adds: the in-place float32 sum of the flat gradient
/// buffer of a model (plus the one slot of the stop request), as <see cref="Loop.VaeTrainer"/> makes it.
/// Every rank runs it together; a small all-reduce before each timed call lines the ranks up, so a
/// call's time is the collective's, not a late rank's.
/// </summary>
public static class AllReduceBenchmark
{
    public static AllReduceResult Run(ICommunicator ranks, VaeConfig config, int repeats)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        int floats = new ParameterLayout(config).Length + 1;
        var buffer = new float[floats];
        var line = new float[1];
        for (int i = 0; i < 3; i++) ranks.AllReduceSum(buffer); // connections and buffers set up once
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            ranks.AllReduceSum(line);
            long start = Stopwatch.GetTimestamp();
            ranks.AllReduceSum(buffer);
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        // The mean over the ranks of each call (every rank waits for the collective to end).
        ranks.AllReduceSum(times.AsSpan()); // sums; divided below into means over ranks
        for (int r = 0; r < repeats; r++) times[r] /= ranks.Size;
        Array.Sort(times);
        return new AllReduceResult(ranks.Size, ranks.Description, floats, times[repeats / 2], times[0], times[^1]);
    }
}
