namespace IlgpuVae.Training.Distributed;

/// <summary>
/// The processes of one training job and the one collective that data parallelism needs: an in-place
/// sum over every rank. A single process is a communicator of size 1 whose sums are the identity, so
/// the trainer has one code path. Every rank must make the same calls in the same order.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0..Size-1. Rank 0 writes the run's files.</summary>
    int Rank { get; }

    int Size { get; }

    /// <summary>This process's rank among the ranks on its node, and how many there are (GPU and thread choice).</summary>
    int LocalRank { get; }

    int LocalSize { get; }

    /// <summary>What carries the job, e.g. "single process" or "Open MPI v4.1.4, 2 ranks".</summary>
    string Description { get; }

    /// <summary>Replaces values on every rank by their sum over all ranks.</summary>
    void AllReduceSum(Span<float> values);

    /// <inheritdoc cref="AllReduceSum(Span{float})"/>
    void AllReduceSum(Span<double> values);

    /// <summary>Ends every rank of the job with exitCode (MPI_Abort): for a rank that cannot go on, so that no other waits forever.</summary>
    void Abort(int exitCode);
}

/// <summary>The communicator of a process that is the whole job.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static SingleProcess Instance { get; } = new();

    public int Rank => 0;
    public int Size => 1;
    public int LocalRank => 0;
    public int LocalSize => 1;
    public string Description => "single process";
    public void AllReduceSum(Span<float> values) { }
    public void AllReduceSum(Span<double> values) { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }
}

/// <summary>MPI was asked for (the process was started by an MPI launcher) but cannot be used.</summary>
public sealed class MpiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
