using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// What a training step asks of the device: kernel launches only, the same number every step, and no
/// copy, wait or allocation, so a GPU never idles on the host inside a step. The host reads the losses
/// back once per ProgressEvery steps and once at the end of the epoch.
/// </summary>
[TestClass]
public sealed class StepCostTests
{
    public TestContext TestContext { get; set; } = null!;

    private static Accelerator Open(string device) => device switch
    {
        "cpu" => new CpuAccelerator(),
        _ => IlgpuAccelerator.CreateCpu(),
    };

    [TestMethod]
    [DataRow("cpu", new[] { 400 })]
    [DataRow("ilgpu-cpu", new[] { 64 })]
    [DataRow("ilgpu-cpu", new[] { 48, 32 })]
    public void AStepEnqueuesAFixedNumberOfLaunchesAndNoHostRoundTrip(string device, int[] hidden)
    {
        var data = FashionMnist.Full;
        using var acc = Open(device);
        var config = new VaeConfig { Hidden = hidden, Latent = 20 };
        var options = new TrainingOptions { Epochs = 1, BatchSize = 128, Binarize = true, ProgressEvery = 1000 };
        using var trainer = new VaeTrainer(acc, config, options, FashionMnist.First(data.Train, 1280), FashionMnist.First(data.Test, 100));
        using var indices = acc.Upload<int>(Enumerable.Range(0, 128).ToArray());

        trainer.TrainStep(indices.View, 128, 0); // a first step outside the count: JIT and first use of each op
        acc.Synchronize();
        var perStep = new List<AcceleratorCounters>();
        for (int step = 1; step <= 4; step++)
        {
            var before = acc.Counters;
            trainer.TrainStep(indices.View, 128, step);
            perStep.Add(acc.Counters - before);
        }
        acc.Synchronize();
        TestContext.WriteLine($"{acc.Specifier}, hidden {string.Join(",", hidden)}: {perStep[0]}");

        foreach (var cost in perStep)
        {
            Assert.AreEqual(perStep[0], cost, "every step costs the same");
            Assert.AreEqual(0, cost.HostInteractions, "no copy or wait inside a step");
            Assert.AreEqual(0, cost.Allocations, "no allocation inside a step");
            Assert.AreEqual(0, cost.DeviceToDevice);
        }
        if (acc is IlgpuAccelerator)
        {
            // gather, per layer a GEMM with fused bias and activation forward and two or three GEMMs and
            // a bias gradient backward, sampling, the fused loss, the loss sum and Adam: a few dozen.
            Assert.IsGreaterThan(10, perStep[0].Launches);
            Assert.IsLessThan(20 + 10 * hidden.Length, perStep[0].Launches);
        }
        else
        {
            Assert.AreEqual(0, perStep[0].Launches, "the CPU accelerator runs its ops in place");
        }
    }

    /// <summary>
    /// A conditional denoising model trained with the score function: its labels, its corruption's noise
    /// and its estimator are device work too (the labels live on the device like the images).
    /// </summary>
    [TestMethod]
    [DataRow("cpu")]
    [DataRow("ilgpu-cpu")]
    public void AConditionalDenoisingStepStaysOnTheDevice(string device)
    {
        var full = FashionMnist.Full;
        var data = new IlgpuVae.Training.Data.IdxDataSet(FashionMnist.First(full.Train, 256), full.TrainLabels[..256],
            FashionMnist.First(full.Test, 64), full.TestLabels[..64]);
        using var acc = Open(device);
        var config = new VaeConfig { Kind = ModelKind.Conditional, Classes = 10, Hidden = [32], Latent = 4 };
        var options = new TrainingOptions
        {
            Epochs = 1, BatchSize = 64, Binarize = true, ProgressEvery = 1000,
            Corruption = Corruption.Parse("salt-pepper:0.2"), Estimator = GradientEstimator.ScoreWithBaseline,
        };
        using var trainer = new VaeTrainer(acc, config, options, data);
        using var indices = acc.Upload<int>(Enumerable.Range(0, 64).ToArray());
        trainer.TrainStep(indices.View, 64, 0);
        acc.Synchronize();
        var before = acc.Counters;
        trainer.TrainStep(indices.View, 64, 1);
        var cost = acc.Counters - before;
        Assert.AreEqual(0, cost.HostInteractions, "no copy or wait inside a step");
        Assert.AreEqual(0, cost.Allocations, "no allocation inside a step");
    }

    [TestMethod]
    public void AnEpochReadsTheLossesBackOncePerProgressIntervalAndAtItsEnd()
    {
        var data = FashionMnist.Full;
        using var acc = new CpuAccelerator();
        var options = new TrainingOptions { Epochs = 1, BatchSize = 100, ProgressEvery = 4, EvalBatch = 100 };
        using var trainer = new VaeTrainer(acc, new VaeConfig { Hidden = [32], Latent = 4 }, options,
            FashionMnist.First(data.Train, 1000), FashionMnist.First(data.Test, 200));
        var before = acc.Counters;
        trainer.TrainEpoch(1, progress: _ => { });
        var cost = acc.Counters - before;
        // 10 steps: progress after steps 4 and 8, the end of the epoch, and two evaluation batches read as
        // one: their loss sums, and their KL sums (one term for the MLP).
        Assert.AreEqual(1, cost.HostToDevice, "the epoch's shuffled order, once");
        Assert.AreEqual(5, cost.DeviceToHost, "losses at steps 4 and 8, at the end, the evaluation's loss and KL sums");
        Assert.AreEqual(0, cost.Synchronizations);
        Assert.AreEqual(0, cost.Allocations);
    }
}
