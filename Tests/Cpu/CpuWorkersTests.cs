using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Cpu;

/// <summary>The accelerator's worker threads: every item once per op, back-to-back ops, errors, nesting.</summary>
[TestClass]
public sealed class CpuWorkersTests
{
    [TestMethod]
    public void EveryItemRunsExactlyOnceInBackToBackOps()
    {
        using var workers = new CpuWorkers(3);
        for (int op = 0; op < 2000; op++)
        {
            int count = 1 + op % 9;
            var hits = new int[count];
            workers.Run(count, i => Interlocked.Increment(ref hits[i]));
            for (int i = 0; i < count; i++)
                if (hits[i] != 1) Assert.Fail($"op {op}: item {i} ran {hits[i]} times");
            // Now and then let the workers fall asleep, so that waking them is tested too.
            if (op % 500 == 499) Thread.Sleep(5);
        }
    }

    [TestMethod]
    public void ALateWorkerNeverRunsAnItemOfTheNextLargerOp()
    {
        // Each op has more items than the one before: a worker that woke for op G and read the op late
        // must not claim item G.count of op G+1 while the state still says G (it then ran twice, and the
        // op could return before it finished). More threads than cores make late workers common.
        using var workers = new CpuWorkers(4);
        var hits = new int[64];
        for (int op = 0; op < 30000; op++)
        {
            int count = 2 + op % 7;
            Array.Clear(hits);
            workers.Run(count, i => Interlocked.Increment(ref hits[i]));
            for (int i = 0; i < hits.Length; i++)
                if (hits[i] != (i < count ? 1 : 0)) Assert.Fail($"op {op} of {count} items: item {i} ran {hits[i]} times");
        }
    }

    [TestMethod]
    public void AnErrorInAnItemReachesTheCallerAndTheWorkersCarryOn()
    {
        using var workers = new CpuWorkers(2);
        Assert.ThrowsExactly<InvalidOperationException>(() => workers.Run(4, i => { if (i == 3) throw new InvalidOperationException("item 3"); }));
        int sum = 0;
        workers.Run(4, i => Interlocked.Add(ref sum, i));
        Assert.AreEqual(6, sum);
    }

    [TestMethod]
    public void AnOpStartedFromInsideAnOpRunsInline()
    {
        using var workers = new CpuWorkers(2);
        int total = 0;
        workers.Run(2, _ => workers.Run(3, _ => Interlocked.Increment(ref total)));
        Assert.AreEqual(6, total);
    }
}
