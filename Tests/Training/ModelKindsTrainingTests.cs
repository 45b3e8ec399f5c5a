using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Every model kind, corruption and estimator trains, lowers its loss, and resumes from a checkpoint file
/// to the same bits as a run that never stopped, on a real Fashion-MNIST subset with its labels.
/// </summary>
[TestClass]
public sealed class ModelKindsTrainingTests
{
    // 1,000 images in batches of 96: 11 steps an epoch, the last of 40 rows.
    private static readonly TrainingOptions Options = new() { Epochs = 2, BatchSize = 96, Seed = 5, EvalBatch = 128, Binarize = true };

    private static IdxDataSet Data()
    {
        var full = FashionMnist.Full;
        return new IdxDataSet(FashionMnist.First(full.Train, 1000), full.TrainLabels[..1000], FashionMnist.First(full.Test, 300), full.TestLabels[..300]);
    }

    [TestMethod]
    [DataRow("conditional", "none", "reparam")]
    [DataRow("mlp", "gaussian:0.3", "reparam")]
    [DataRow("conditional", "mask:0.4", "reparam")]
    [DataRow("mlp", "downsample:2", "reparam")]
    [DataRow("mlp", "none", "score-baseline")]
    [DataRow("conditional", "salt-pepper:0.2", "score")]
    [DataRow("hierarchical", "none", "reparam")]
    [DataRow("hierarchical", "mask:0.3", "reparam")]
    [DataRow("gan", "none", "reparam")]
    public void TrainsAndResumesFromTheFileToTheSameBits(string kind, string corrupt, string estimator)
    {
        var data = Data();
        var config = new VaeConfig { Kind = ModelKinds.Parse(kind)!.Value, Hidden = [48], Latent = 6 };
        if (config.Kind == ModelKind.Conditional) config = config with { Classes = TrainingRun.ClassesOf(data) };
        if (config.Kind == ModelKind.Hierarchical) config = config with { TopHidden = [24], TopLatent = 3 };
        var options = Options with { Corruption = Corruption.Parse(corrupt), Estimator = GradientEstimators.Parse(estimator)!.Value };
        if (config.Kind == ModelKind.Gan) options = options with { DiscriminatorSteps = 2, Adam = options.Adam with { Beta1 = 0.5f } };
        CheckTrainsAndResumes(data, config, options);
    }

    /// <summary>
    /// A KL warm-up: the KL's weight follows the step (0 at step 0, beta from step KlWarmupSteps on), so
    /// a warmed-up run differs from a plain one and still resumes to the same bits.
    /// </summary>
    [TestMethod]
    public void AKlWarmUpRampsBetaWithTheStepAndResumesToTheSameBitsAndSoDoFreeBits()
    {
        var data = Data();
        var config = new VaeConfig { Hidden = [48], Latent = 6 };
        var options = Options with { KlWarmupSteps = 15 };
        CheckTrainsAndResumes(data, config, options);
        CheckTrainsAndResumes(data, config, Options with { FreeBits = 0.5f });

        using var acc = new CpuAccelerator();
        using var warm = new VaeTrainer(acc, config, options, data);
        using var plain = new VaeTrainer(acc, config, Options, data);
        using var indices = acc.Upload<int>(Enumerable.Range(0, 96).ToArray());
        warm.TrainStep(indices.View, 96, 0);
        Assert.AreEqual(1f / 15, warm.Network.KlScale, 1e-7f, "step 1 of 15 weighs the KL 1/15");
        plain.TrainStep(indices.View, 96, 0);
        CollectionAssert.AreNotEqual(plain.DownloadParameters(), warm.DownloadParameters(), "the warm-up changes the first step");
        using var same = new VaeTrainer(acc, config, Options, data, warm.DownloadParameters());
        Assert.AreEqual(same.Evaluate(), warm.Evaluate(), "the test loss weighs the KL fully, warm-up or not");
    }

    private static void CheckTrainsAndResumes(IdxDataSet data, VaeConfig config, TrainingOptions options)
    {
        var signature = DataSignature.Of("/data", data.Train, data.Test);
        using var acc = new CpuAccelerator();

        using var straight = Trainers.Create(acc, config, options, data, IlgpuVae.Training.Distributed.SingleProcess.Instance);
        var s1 = straight.TrainEpoch(1);
        var s2 = straight.TrainEpoch(2);
        // A GAN's losses are a game's, not a bound that falls: its epochs must be finite and its players must have moved.
        if (config.Kind == ModelKind.Gan) Assert.IsTrue(double.IsFinite(s2.TestLoss!.Value) && s2.Extra!.ContainsKey("d_accuracy_fake"));
        else Assert.IsLessThan(s1.TestLoss!.Value, s2.TestLoss!.Value, "the second epoch lowers the test loss");
        var expected = straight.CaptureCheckpoint(signature);

        using var temp = new IlgpuVae.Tests.Host.TempDirectory();
        string path = temp[CheckpointFile.FileName];
        using (var first = Trainers.Create(acc, config, options, data, IlgpuVae.Training.Distributed.SingleProcess.Instance))
        using (var cancel = new CancellationTokenSource())
        {
            first.TrainEpoch(1, cancel.Token, afterStep: () => { if (first.Step == 7) cancel.Cancel(); });
            CheckpointFile.Save(path, first.CaptureCheckpoint(signature));
        }

        var checkpoint = CheckpointFile.Load(path);
        Assert.AreEqual(config, checkpoint.Config, "the kind and classes travel in the file");
        Assert.AreEqual(options.Corruption, checkpoint.Options.Corruption);
        Assert.AreEqual(options.Estimator, checkpoint.Options.Estimator);
        using var resumed = Trainers.Resume(acc, checkpoint, checkpoint.Options, data, IlgpuVae.Training.Distributed.SingleProcess.Instance);
        EpochResult? last = null;
        for (int epoch = resumed.Position.Epoch; epoch <= 2; epoch++) last = resumed.TrainEpoch(epoch);
        var actual = resumed.CaptureCheckpoint(signature);
        CollectionAssert.AreEqual(expected.Parameters, actual.Parameters, "parameters");
        CollectionAssert.AreEqual(expected.FirstMoment, actual.FirstMoment, "Adam m");
        Assert.AreEqual(s2.TestLoss, last!.TestLoss);
    }

    [TestMethod]
    public void AConditionalModelRefusesImagesWithoutLabelsOrWithLabelsBeyondItsClasses()
    {
        var data = Data();
        var config = new VaeConfig { Kind = ModelKind.Conditional, Classes = 10, Hidden = [16], Latent = 2 };
        using var acc = new CpuAccelerator();
        var e = Assert.ThrowsExactly<ArgumentException>(() => new VaeTrainer(acc, config, Options, data.Train, data.Test));
        StringAssert.Contains(e.Message, "labels");
        var few = config with { Classes = 5 };
        e = Assert.ThrowsExactly<ArgumentException>(() => new VaeTrainer(acc, few, Options, data));
        StringAssert.Contains(e.Message, "5 classes");
    }
}
