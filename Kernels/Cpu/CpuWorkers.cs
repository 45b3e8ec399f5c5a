using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The accelerator's own threads: Threads - 1 workers plus the calling thread. Parallel.For hands
/// every op to the thread pool, whose workers are woken through the scheduler (tens of microseconds,
/// more when they have gone to sleep); a training step at batch 128 is two dozen ops of 10-700 us, so
/// that cost is not amortised. These workers instead spin for a short while after each op (the next op
/// of a step follows within microseconds), and only then sleep until the next one.
///
/// Items are claimed as threads come free, but each item is a fixed piece of work whatever thread runs
/// it, so results never depend on scheduling.
/// </summary>
internal sealed class CpuWorkers : IDisposable
{
    // How long an idle worker spins before it sleeps: longer than the gaps between the ops of a step,
    // short enough that an idle accelerator gives its cores back at once.
    private static readonly long SpinTicks = Stopwatch.Frequency / 4000; // 250 us

    [ThreadStatic] private static bool t_inside;

    private readonly Thread[] _threads;
    private readonly object _sleepGate = new();
    private readonly object _runGate = new();
    // The op now running, published before its generation: its body and count travel together with the
    // generation they belong to. (Separate body and count fields let a worker that woke for op G, and came
    // late, read op G+1's larger count while the state still said G, claim item G.count under G and run it
    // in op G+1's body before op G+1 began: that item then ran twice.)
    private Op? _op;
    // Generation in the high 32 bits, the next unclaimed item in the low 32: one CAS both claims an item
    // and checks that it belongs to the op the thread read the body of.
    private long _state;
    private int _remaining;
    private int _sleeping;
    private volatile bool _disposed;
    private Exception? _error;

    public CpuWorkers(int threads)
    {
        _threads = new Thread[Math.Max(0, threads - 1)];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"cpu-accelerator-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs body(0 .. count-1) on the workers and the calling thread; returns when all are done.</summary>
    public void Run(int count, Action<int> body)
    {
        if (count <= 0) return;
        // Inline when there is nothing to share, or when called from inside an op (never deadlock).
        if (count == 1 || _threads.Length == 0 || t_inside)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        lock (_runGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _error = null;
            Volatile.Write(ref _remaining, count);
            long generation = (Volatile.Read(ref _state) >> 32) + 1;
            Volatile.Write(ref _op, new Op(generation, body, count));
            Interlocked.Exchange(ref _state, generation << 32);
            // Full fences on both sides (here and in Sleep): a worker that went to sleep either is seen
            // here or sees the new generation before it waits.
            if (Volatile.Read(ref _sleeping) > 0)
                lock (_sleepGate) Monitor.PulseAll(_sleepGate);
            t_inside = true;
            try { Work(generation, body, count); }
            finally { t_inside = false; }
            var spin = new SpinWait();
            while (Volatile.Read(ref _remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _op, null);
            if (_error is { } error) ExceptionDispatchInfo.Throw(error);
        }
    }

    private void Work(long generation, Action<int> body, int count)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int item = (int)(state & uint.MaxValue);
            if (state >> 32 != generation || item >= count) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
            try { body(item); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            Interlocked.Decrement(ref _remaining);
        }
    }

    private void Loop()
    {
        t_inside = true;
        long seen = 0;
        while (true)
        {
            seen = WaitForWork(seen);
            if (_disposed) return;
            // Read after the generation. Work only for the op of the generation seen: its CAS then claims
            // nothing once that op has been followed by another.
            var op = Volatile.Read(ref _op);
            if (op is not null && op.Generation == seen) Work(op.Generation, op.Body, op.Count);
        }
    }

    private long WaitForWork(long seen)
    {
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        while (Stopwatch.GetTimestamp() < until)
        {
            for (int i = 0; i < 16; i++)
            {
                long generation = Volatile.Read(ref _state) >> 32;
                if (generation != seen || _disposed) return generation;
                Thread.SpinWait(8);
            }
        }
        lock (_sleepGate)
        {
            Interlocked.Increment(ref _sleeping);
            long generation;
            while ((generation = Volatile.Read(ref _state) >> 32) == seen && !_disposed) Monitor.Wait(_sleepGate);
            Interlocked.Decrement(ref _sleeping);
            return generation;
        }
    }

    private sealed record Op(long Generation, Action<int> Body, int Count);

    public void Dispose()
    {
        lock (_runGate)
        {
            _disposed = true;
            lock (_sleepGate) Monitor.PulseAll(_sleepGate);
        }
        foreach (var thread in _threads) thread.Join();
    }
}
