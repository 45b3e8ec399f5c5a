using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// Resuming is exact on the ILGPU kernels too: they sum along fixed trees, never with atomics, so a run
/// stopped mid-epoch and resumed from its checkpoint file ends with the uninterrupted run's bits. On
/// ILGPU's CPU accelerator, with a model and batches small enough for it.
/// </summary>
[TestClass]
public sealed class IlgpuResumeTests
{
    [TestMethod]
    public void ARunResumedOnIlgpuEndsWithTheUninterruptedBits()
    {
        var data = FashionMnist.Full;
        var train = FashionMnist.First(data.Train, 100);
        var test = FashionMnist.First(data.Test, 20);
        var signature = DataSignature.Of("/data", train, test);
        var config = new VaeConfig { Hidden = [16], Latent = 4 };
        // 5 steps an epoch, the last one a partial batch; the stop falls inside the first epoch.
        var options = new TrainingOptions { Epochs = 2, BatchSize = 24, Seed = 11, EvalBatch = 10, Binarize = true };
        using var acc = IlgpuAccelerator.CreateCpu();

        float[] expected;
        double? expectedTest;
        using (var straight = new VaeTrainer(acc, config, options, train, test))
        {
            straight.TrainEpoch(1);
            expectedTest = straight.TrainEpoch(2).TestLoss;
            expected = straight.DownloadParameters();
        }

        using var temp = new IlgpuVae.Tests.Host.TempDirectory();
        string path = temp[CheckpointFile.FileName];
        using (var first = new VaeTrainer(acc, config, options with { MaxSteps = 3 }, train, test))
        {
            first.TrainEpoch(1);
            CheckpointFile.Save(path, first.CaptureCheckpoint(signature));
        }
        var checkpoint = CheckpointFile.Load(path);
        Assert.AreEqual("ilgpu-cpu", checkpoint.Device);
        using var resumed = new VaeTrainer(acc, checkpoint, options, train, test);
        resumed.TrainEpoch(1);
        var last = resumed.TrainEpoch(2);
        CollectionAssert.AreEqual(expected, resumed.DownloadParameters());
        Assert.AreEqual(expectedTest, last.TestLoss);
    }
}
