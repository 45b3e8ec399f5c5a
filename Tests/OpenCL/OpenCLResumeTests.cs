using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// Resuming is exact on OpenCL too: its kernels are deterministic for a given device and build, so a
/// run stopped mid-epoch and resumed from its checkpoint file ends with the uninterrupted run's bits.
/// </summary>
[TestClass]
public sealed class OpenCLResumeTests
{
    [TestMethod]
    public void ARunResumedOnOpenCLEndsWithTheUninterruptedBits()
    {
        var data = FashionMnist.Full;
        var train = FashionMnist.First(data.Train, 700);
        var test = FashionMnist.First(data.Test, 200);
        var signature = DataSignature.Of("/data", train, test);
        var config = new VaeConfig { Hidden = [40], Latent = 6 };
        var options = new TrainingOptions { Epochs = 2, BatchSize = 64, Seed = 11, EvalBatch = 100, Binarize = true };
        using var cl = OpenCLTestDevice.Open();

        float[] expected;
        double? expectedTest;
        using (var straight = new VaeTrainer(cl, config, options, train, test))
        {
            straight.TrainEpoch(1);
            expectedTest = straight.TrainEpoch(2).TestLoss;
            expected = straight.DownloadParameters();
        }

        using var temp = new IlgpuVae.Tests.Host.TempDirectory();
        string path = temp[CheckpointFile.FileName];
        using (var first = new VaeTrainer(cl, config, options with { MaxSteps = 7 }, train, test))
        {
            first.TrainEpoch(1);
            CheckpointFile.Save(path, first.CaptureCheckpoint(signature));
        }
        var checkpoint = CheckpointFile.Load(path);
        Assert.AreEqual("opencl:0", checkpoint.Device);
        using var resumed = new VaeTrainer(cl, checkpoint, options, train, test);
        resumed.TrainEpoch(1);
        var last = resumed.TrainEpoch(2);
        CollectionAssert.AreEqual(expected, resumed.DownloadParameters());
        Assert.AreEqual(expectedTest, last.TestLoss);
    }
}
