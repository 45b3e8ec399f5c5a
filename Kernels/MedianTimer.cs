using System.Diagnostics;

namespace IlgpuVae.Kernels;

/// <summary>The median wall time of repeated calls, each waited for: how every benchmark of the project times a kernel.</summary>
public static class MedianTimer
{
    /// <summary>Runs call then wait repeats times and returns the median milliseconds of one call (the caller warms up first).</summary>
    public static double Milliseconds(Action call, Action wait, int repeats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            wait();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : (times[repeats / 2 - 1] + times[repeats / 2]) / 2;
    }
}
