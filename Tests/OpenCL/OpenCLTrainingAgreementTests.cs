using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// Training on OpenCL against training on the CPU accelerator, same seed, real Fashion-MNIST: the first
/// step's loss agrees to 1e-5 relative and, after 200 steps of float rounding drifting apart, the step
/// losses and the test loss still agree to 1e-2. A small MLP keeps the 200 steps quick on both.
/// </summary>
[TestClass]
public sealed class OpenCLTrainingAgreementTests
{
    private const int Steps = 200, Batch = 128;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TrainingOnOpenCLFollowsTheCpuAccelerator()
    {
        var data = LoadFashionMnist();
        var config = new VaeConfig { Hidden = [48], Latent = 8 };
        var options = new TrainingOptions { Epochs = 1, MaxSteps = Steps, Seed = 7, ProgressEvery = 1, EvalBatch = 250, Binarize = true };
        // One batch more than the step limit, so that the 200th step is reported like every other.
        var train = data.Train with { Count = (Steps + 1) * Batch };
        var test = data.Test with { Count = 500 };

        using var cl = OpenCLTestDevice.Open();
        using var cpu = new CpuAccelerator();
        var (clLosses, clResult) = Train(cl, config, options, train, test);
        var (cpuLosses, cpuResult) = Train(cpu, config, options, train, test);

        TestContext.WriteLine($"step 1: cpu {cpuLosses[0]:R} opencl {clLosses[0]:R}; step {Steps}: cpu {cpuLosses[^1]:R} opencl {clLosses[^1]:R}; " +
            $"test loss: cpu {cpuResult.TestLoss:R} opencl {clResult.TestLoss:R}; steps with bit-identical losses: " +
            $"{cpuLosses.Zip(clLosses).Count(p => p.First == p.Second)} of {Steps}");
        Assert.AreEqual(Steps, cpuLosses.Count);
        Assert.AreEqual(Steps, clLosses.Count);
        Assert.AreEqual(cpuLosses[0], clLosses[0], 1e-5 * cpuLosses[0], "first-step loss");
        for (int s = 0; s < Steps; s++)
            Assert.AreEqual(cpuLosses[s], clLosses[s], 1e-2 * cpuLosses[s], $"loss of step {s + 1}");
        Assert.IsNotNull(cpuResult.TestLoss);
        Assert.IsNotNull(clResult.TestLoss);
        Assert.AreEqual(cpuResult.TestLoss.Value, clResult.TestLoss.Value, 1e-2 * cpuResult.TestLoss.Value, "test loss after 200 steps");
        // It learned: 200 steps bring the loss well below the first step's (about 543 nats for an untrained model).
        Assert.IsTrue(clLosses[^1] < 0.75 * clLosses[0], $"loss went from {clLosses[0]:F1} to {clLosses[^1]:F1}");
    }

    private static (List<double> StepLosses, EpochResult Result) Train(Accelerator acc, VaeConfig config, TrainingOptions options, IdxImages train, IdxImages test)
    {
        using var trainer = new VaeTrainer(acc, config, options, train, test);
        Assert.AreSame(acc, trainer.Network.Parameters.Accelerator);
        var losses = new List<double>();
        var result = trainer.TrainEpoch(1, progress: p => losses.Add(p.RecentLoss));
        return (losses, result);
    }

    private static IdxDataSet LoadFashionMnist()
    {
        try
        {
            return IdxDataSet.Load(IdxDataSet.DefaultDirectory);
        }
        catch (DataSetException e)
        {
            if (Conformance.KernelConformance.IsCi) Assert.Fail($"Fashion-MNIST is required in CI: {e.Message}");
            Assert.Inconclusive(e.Message);
            throw;
        }
    }
}
