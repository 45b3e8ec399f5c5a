using IlgpuVae.Training.Distributed;

namespace IlgpuVae.Tests.Distributed;

/// <summary>Which launches are parallel jobs, read from the variables each launcher sets.</summary>
[TestClass]
public sealed class MpiLaunchTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return name => map.GetValueOrDefault(name);
    }

    [TestMethod]
    public void APlainStartIsNotAParallelJob()
    {
        Assert.IsNull(MpiLaunch.Detect(Env()));
        // A Slurm batch script has job variables but is not a step of several tasks.
        Assert.IsNull(MpiLaunch.Detect(Env(("SLURM_JOB_ID", "7"), ("SLURM_NTASKS", "4"), ("SLURM_PROCID", "0"))));
        // One rank needs no MPI at all.
        Assert.IsNull(MpiLaunch.Detect(Env(("OMPI_COMM_WORLD_SIZE", "1"), ("OMPI_COMM_WORLD_RANK", "0"))));
    }

    [TestMethod]
    public void OpenMpiMpirunIsReadWithItsLocalRank()
    {
        var launch = MpiLaunch.Detect(Env(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "3"),
            ("OMPI_COMM_WORLD_LOCAL_RANK", "1"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "2")))!;
        Assert.AreEqual((3, 4, 1, 2), (launch.Rank, launch.Size, launch.LocalRank, launch.LocalSize));
        Assert.AreEqual("libmpi.so.40", launch.Libraries[0]);
    }

    [TestMethod]
    public void MpichHydraAndSrunAreRead()
    {
        var hydra = MpiLaunch.Detect(Env(("PMI_SIZE", "2"), ("PMI_RANK", "1"), ("MPI_LOCALRANKID", "1"), ("MPI_LOCALNRANKS", "2")))!;
        Assert.AreEqual((1, 2, 1, 2), (hydra.Rank, hydra.Size, hydra.LocalRank, hydra.LocalSize));
        Assert.AreEqual("libmpich.so.12", hydra.Libraries[0]);

        var srun = MpiLaunch.Detect(Env(("SLURM_STEP_NUM_TASKS", "8"), ("SLURM_PROCID", "5"), ("SLURM_LOCALID", "1"),
            ("SLURM_STEP_TASKS_PER_NODE", "4(x2)")))!;
        Assert.AreEqual((5, 8, 1, 4), (srun.Rank, srun.Size, srun.LocalRank, srun.LocalSize));
    }

    [TestMethod]
    public void TheLibraryVariableOverridesTheLaunchersUsualLibrary()
    {
        var launch = MpiLaunch.Detect(Env(("PMI_SIZE", "2"), ("PMI_RANK", "0"), (MpiLaunch.LibraryVariable, "/opt/intel/mpi/lib/libmpi.so.12")))!;
        CollectionAssert.AreEqual(new[] { "/opt/intel/mpi/lib/libmpi.so.12" }, launch.Libraries);
    }

    [TestMethod]
    public void AMissingLibraryIsNamedWithWhatWasTried()
    {
        var launch = new MpiLaunch("MPICH mpiexec", 0, 2, 0, 2, ["libmpi-that-is-not-there.so.99"]);
        var e = Assert.ThrowsExactly<MpiUnavailableException>(() => MpiCommunicator.Open(launch));
        StringAssert.Contains(e.Message, "libmpi-that-is-not-there.so.99");
        StringAssert.Contains(e.Message, MpiLaunch.LibraryVariable);
    }
}
