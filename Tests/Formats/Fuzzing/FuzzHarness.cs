using System.Diagnostics;

namespace IlgpuVae.Tests.Formats.Fuzzing;

/// <summary>What one input did that it must not: an undocumented exception, too long a run, too much memory.</summary>
public sealed record FuzzFailure(string Target, int Iteration, string Problem, byte[] Input, string? SavedTo)
{
    public override string ToString() =>
        $"{Target} #{Iteration}: {Problem} ({Input.Length}-byte input{(SavedTo is null ? "" : $" saved to {SavedTo}")}; base64 {Convert.ToBase64String(Input.AsSpan(0, Math.Min(Input.Length, 96)))}{(Input.Length > 96 ? "..." : "")})";
}

/// <summary>
/// A bounded, seeded mutation fuzzer. Starting from a target's valid files it mutates, runs the
/// reader, and records every input that throws outside the documented exceptions, runs longer than
/// <see cref="SlowInput"/>, or allocates more than its size can justify (a length field trusted
/// before it was checked). Inputs that read successfully join the corpus, so later mutations start
/// from files that already pass the early checks. Without coverage feedback this is not AFL, but it
/// runs in the test suite, everywhere, in a bounded time, and the same seed finds the same inputs.
/// </summary>
public static class FuzzHarness
{
    public static readonly TimeSpan SlowInput = TimeSpan.FromSeconds(2);

    private const int CorpusLimit = 64;

    /// <summary>
    /// Allocation allowed for one input: a reader may copy what it holds a few times over, and a gzip
    /// input may inflate up to about 1032 times (deflate's limit), but a header's claims must not be
    /// allocated before the data behind them has been seen.
    /// </summary>
    public static long AllocationBudget(FuzzTarget target, int inputLength) =>
        (4L << 20) + (long)inputLength * (target.Gzip ? 4096 : 64);

    public static IReadOnlyList<FuzzFailure> Run(FuzzTarget target, int iterations, int seed, string? saveDirectory = null)
    {
        var mutator = new ByteMutator(seed);
        var pick = new Random(seed ^ 0x5EED);
        var corpus = new List<byte[]>(target.Seeds());
        var failures = new List<FuzzFailure>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var valid in corpus.ToArray())
            if (Execute(target, valid) is { } problem) failures.Add(new FuzzFailure(target.Name, -1, "a seed fails: " + problem, valid, null));

        for (int i = 0; i < iterations; i++)
        {
            byte[] input = mutator.Mutate(corpus[pick.Next(corpus.Count)], target.Fields);
            if (target.Gzip && pick.Next(6) == 0) input = IdxTestFiles.Gzip(input);
            string? problem = Execute(target, input, out bool parsed);
            if (problem is null)
            {
                if (parsed && corpus.Count < CorpusLimit) corpus.Add(input);
                continue;
            }
            // One report per kind of failure: the same bug is hit by many inputs.
            if (!seen.Add(problem.Split('\n')[0])) continue;
            failures.Add(new FuzzFailure(target.Name, i, problem, input, Save(saveDirectory, target, i, input)));
        }
        return failures;
    }

    /// <summary>Null when the reader handled <paramref name="input"/> as documented, else what went wrong.</summary>
    public static string? Execute(FuzzTarget target, byte[] input) => Execute(target, input, out _);

    private static string? Execute(FuzzTarget target, byte[] input, out bool parsed)
    {
        parsed = false;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        string? problem = null;
        try
        {
            target.Parse(input);
            parsed = true;
        }
        catch (Exception e) when (target.Documented.Any(type => type.IsInstanceOfType(e)))
        {
            if (!e.Message.Contains(FuzzTargets.FuzzName, StringComparison.Ordinal))
                problem = $"{e.GetType().Name} that does not name the file: {e.Message}";
        }
        catch (Exception e)
        {
            problem = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (problem is null && clock.Elapsed > SlowInput)
            problem = $"took {clock.Elapsed.TotalSeconds:F1} s";
        if (problem is null && allocated > AllocationBudget(target, input.Length))
            problem = $"allocated {allocated} bytes for a {input.Length}-byte input";
        return problem;
    }

    private static string? Save(string? directory, FuzzTarget target, int iteration, byte[] input)
    {
        if (directory is null) return null;
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{target.Name}-{iteration}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}
