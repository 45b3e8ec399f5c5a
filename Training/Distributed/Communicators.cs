namespace IlgpuVae.Training.Distributed;

/// <summary>The communicator of this process: MPI's when an MPI launcher started several ranks, else a single process.</summary>
public static class Communicators
{
    public static ICommunicator ForThisProcess()
        => MpiLaunch.Detect() is { } launch ? MpiCommunicator.Open(launch) : SingleProcess.Instance;
}
