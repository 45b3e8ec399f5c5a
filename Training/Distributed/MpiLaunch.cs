using System.Globalization;

namespace IlgpuVae.Training.Distributed;

/// <summary>
/// How this process was started, read from the variables MPI launchers set: Open MPI's mpirun
/// (OMPI_COMM_WORLD_*), MPICH's Hydra mpiexec and the launchers of its ABI family (PMI_RANK, PMI_SIZE,
/// MPI_LOCALRANKID), and Slurm's srun (SLURM_STEP_NUM_TASKS, SLURM_PROCID, SLURM_LOCALID). A plain start,
/// or a launch of a single rank, is not a parallel job: no MPI library is loaded then.
/// </summary>
public sealed record MpiLaunch(string Launcher, int Rank, int Size, int LocalRank, int LocalSize, string[] Libraries)
{
    /// <summary>Names the MPI library to load instead of the launcher's usual one (a path or a soname).</summary>
    public const string LibraryVariable = "IVAE_MPI_LIBRARY";

    // The sonames of the two ABI families: Open MPI, and MPICH's (MPICH, Intel MPI, MVAPICH, Cray MPICH).
    private static readonly string[] OpenMpiLibraries = ["libmpi.so.40", "libmpi.so"];
    private static readonly string[] MpichLibraries = ["libmpich.so.12", "libmpi.so.12", "libmpich.so"];

    /// <summary>The launch of this process, or null when it is not one rank of several.</summary>
    public static MpiLaunch? Detect() => Detect(Environment.GetEnvironmentVariable);

    public static MpiLaunch? Detect(Func<string, string?> env)
    {
        string[] Libraries(string[] usual) => env(LibraryVariable) is { Length: > 0 } chosen ? [chosen] : usual;

        MpiLaunch? launch = null;
        if (Int(env, "OMPI_COMM_WORLD_SIZE") is { } ompiSize)
            launch = new("Open MPI mpirun", Int(env, "OMPI_COMM_WORLD_RANK") ?? 0, ompiSize,
                Int(env, "OMPI_COMM_WORLD_LOCAL_RANK") ?? 0, Int(env, "OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1, Libraries(OpenMpiLibraries));
        else if (Int(env, "PMI_SIZE") is { } pmiSize)
            launch = new("MPICH mpiexec", Int(env, "PMI_RANK") ?? 0, pmiSize,
                Int(env, "MPI_LOCALRANKID") ?? 0, Int(env, "MPI_LOCALNRANKS") ?? 1, Libraries(MpichLibraries));
        else if (Int(env, "SLURM_STEP_NUM_TASKS") is { } slurmSize)
            // srun starts ranks for either family; the MPICH ABI is the more common one on clusters.
            launch = new("Slurm srun", Int(env, "SLURM_PROCID") ?? 0, slurmSize, Int(env, "SLURM_LOCALID") ?? 0,
                LocalTasks(env) ?? 1, Libraries([.. MpichLibraries, .. OpenMpiLibraries]));
        return launch is { Size: > 1 } ? launch : null;
    }

    private static int? Int(Func<string, string?> env, string name)
        => int.TryParse(env(name), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : null;

    // SLURM_STEP_TASKS_PER_NODE reads like "2(x3),1": the node's own count is SLURM_TASKS_PER_NODE's
    // first entry only when all nodes agree, so it is an estimate; the local rank is exact.
    private static int? LocalTasks(Func<string, string?> env)
    {
        string? perNode = env("SLURM_STEP_TASKS_PER_NODE") ?? env("SLURM_TASKS_PER_NODE");
        if (perNode is null) return null;
        string first = perNode.Split(',')[0];
        int paren = first.IndexOf('(');
        return int.TryParse(paren < 0 ? first : first[..paren], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
    }
}
