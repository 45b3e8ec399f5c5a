using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Model;
using IlgpuVae.Tests.Training;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Distributed;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// Every model kind (and the corruptions and the score-function estimator) on the ILGPU kernels: they
/// train to what the CPU backend computes (to rounding), and resume from a checkpoint file to the bits
/// of the uninterrupted run. On ILGPU's CPU accelerator, with a model and batches small enough for it.
/// </summary>
[TestClass]
public sealed class IlgpuModelKindsTests
{
    private static IdxDataSet Data()
    {
        var full = FashionMnist.Full;
        return new IdxDataSet(FashionMnist.First(full.Train, 100), full.TrainLabels[..100], FashionMnist.First(full.Test, 20), full.TestLabels[..20]);
    }

    [TestMethod]
    [DataRow("conditional", "gaussian:0.3", "reparam")]
    [DataRow("mlp", "downsample:2", "score-baseline")]
    [DataRow("conditional", "mask:0.3", "score")]
    [DataRow("hierarchical", "salt-pepper:0.1", "reparam")]
    [DataRow("conv", "gaussian:0.2", "reparam")]
    [DataRow("gan", "none", "reparam")]
    public void TrainsAsTheCpuBackendDoesAndResumesToTheSameBits(string kind, string corrupt, string estimator)
    {
        var data = Data();
        var config = new VaeConfig { Kind = ModelKinds.Parse(kind)!.Value, Hidden = [16], Latent = 4 };
        if (config.Kind == ModelKind.Conditional) config = config with { Classes = 10 };
        if (config.Kind == ModelKind.Hierarchical) config = config with { TopHidden = [8], TopLatent = 2 };
        if (config.Kind == ModelKind.Conv) config = config with { Hidden = [4, 8] };
        var options = new TrainingOptions
        {
            Epochs = 2, BatchSize = 24, Seed = 11, EvalBatch = 10, Binarize = true,
            Corruption = Corruption.Parse(corrupt), Estimator = GradientEstimators.Parse(estimator)!.Value,
        };
        var signature = DataSignature.Of("/data", data.Train, data.Test);
        using var acc = IlgpuAccelerator.CreateCpu();

        float[] expected;
        double? expectedTest;
        using (var straight = Trainers.Create(acc, config, options, data, SingleProcess.Instance))
        {
            straight.TrainEpoch(1);
            expectedTest = straight.TrainEpoch(2).TestLoss;
            expected = straight.DownloadParameters();
        }

        // The CPU backend: the same run to rounding (its GEMMs sum in another order).
        using (var cpu = new CpuAccelerator())
        using (var reference = Trainers.Create(cpu, config, options, data, SingleProcess.Instance))
        {
            reference.TrainEpoch(1);
            var cpuTest = reference.TrainEpoch(2).TestLoss;
            Assert.AreEqual(cpuTest!.Value, expectedTest!.Value, 1e-3 * Math.Abs(cpuTest.Value), "test loss on cpu and ilgpu-cpu");
            float[] cpuParameters = reference.DownloadParameters();
            double worst = 0;
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(cpuParameters[i] - expected[i]));
            Assert.IsLessThan(2e-3, worst, "largest parameter difference between cpu and ilgpu-cpu after 10 steps");
        }

        using var temp = new IlgpuVae.Tests.Host.TempDirectory();
        string path = temp[CheckpointFile.FileName];
        using (var first = Trainers.Create(acc, config, options with { MaxSteps = 3 }, data, SingleProcess.Instance))
        {
            first.TrainEpoch(1);
            CheckpointFile.Save(path, first.CaptureCheckpoint(signature));
        }
        var checkpoint = CheckpointFile.Load(path);
        using var resumed = Trainers.Resume(acc, checkpoint, options, data, SingleProcess.Instance);
        resumed.TrainEpoch(1);
        var last = resumed.TrainEpoch(2);
        CollectionAssert.AreEqual(expected, resumed.DownloadParameters());
        Assert.AreEqual(expectedTest, last.TestLoss);
    }
}
