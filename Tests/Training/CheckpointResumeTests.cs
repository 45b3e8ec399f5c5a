using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// A run stopped at any step and resumed from its checkpoint file gives the same bits as a run that
/// never stopped: parameters, Adam moments, the epoch's train loss and the test losses. On real
/// Fashion-MNIST subsets with dynamic binarisation, so every random stream of a step is exercised.
/// </summary>
[TestClass]
public sealed class CheckpointResumeTests
{
    private static readonly VaeConfig Small = new() { Hidden = [48], Latent = 6 };

    // 1,000 images in batches of 96: 11 steps an epoch, the last of 40 rows.
    private static readonly TrainingOptions Options = new() { Epochs = 2, BatchSize = 96, Seed = 5, EvalBatch = 128, Binarize = true };

    private static (IdxImages Train, IdxImages Test) Data()
    {
        var data = FashionMnist.Full;
        return (FashionMnist.First(data.Train, 1000), FashionMnist.First(data.Test, 300));
    }

    private static DataSignature Signature(IdxImages train, IdxImages test) => DataSignature.Of("/data", train, test);

    [TestMethod]
    [DataRow(1, DisplayName = "after the first step")]
    [DataRow(7, DisplayName = "mid-epoch")]
    [DataRow(10, DisplayName = "before the short last batch")]
    [DataRow(11, DisplayName = "at the epoch's end, not yet evaluated")]
    [DataRow(15, DisplayName = "in the second epoch")]
    public void StoppingAtAnyStepAndResumingFromTheFileGivesTheSameBits(int stopAfter)
    {
        var (train, test) = Data();
        using var acc = new CpuAccelerator();

        using var straight = new VaeTrainer(acc, Small, Options, train, test);
        var s1 = straight.TrainEpoch(1);
        var s2 = straight.TrainEpoch(2);
        var expected = straight.CaptureCheckpoint(Signature(train, test));

        using var temp = new IlgpuVae.Tests.Host.TempDirectory();
        string path = temp[CheckpointFile.FileName];
        var results = new List<EpochResult>();
        using (var first = new VaeTrainer(acc, Small, Options, train, test))
        using (var cancel = new CancellationTokenSource())
        {
            void StopAt() { if (first.Step == stopAfter) cancel.Cancel(); }
            for (int epoch = 1; epoch <= 2; epoch++)
            {
                var r = first.TrainEpoch(epoch, cancel.Token, afterStep: StopAt);
                if (r.Interrupted) break;
                results.Add(r);
            }
            Assert.AreEqual(stopAfter, first.Step);
            CheckpointFile.Save(path, first.CaptureCheckpoint(Signature(train, test)));
        }

        var checkpoint = CheckpointFile.Load(path);
        Assert.AreEqual(stopAfter, checkpoint.Position.Step);
        using (var resumed = new VaeTrainer(acc, checkpoint, checkpoint.Options, train, test))
        {
            for (int epoch = resumed.Position.Epoch; epoch <= 2; epoch++) results.Add(resumed.TrainEpoch(epoch));
            var actual = resumed.CaptureCheckpoint(Signature(train, test));
            CollectionAssert.AreEqual(expected.Parameters, actual.Parameters, "parameters");
            CollectionAssert.AreEqual(expected.FirstMoment, actual.FirstMoment, "Adam m");
            CollectionAssert.AreEqual(expected.SecondMoment, actual.SecondMoment, "Adam v");
            Assert.AreEqual(expected.Position, actual.Position);
        }

        // Each epoch's numbers are those of the uninterrupted run, the resumed epoch's train loss
        // included (its first part travelled in the checkpoint).
        var byEpoch = results.GroupBy(r => r.Epoch).ToDictionary(g => g.Key, g => g.Last());
        Assert.AreEqual(s1.TrainLoss, byEpoch[1].TrainLoss);
        Assert.AreEqual(s1.TestLoss, byEpoch[1].TestLoss);
        Assert.AreEqual(s2.TrainLoss, byEpoch[2].TrainLoss);
        Assert.AreEqual(s2.TestLoss, byEpoch[2].TestLoss);
        Assert.AreEqual(11, byEpoch[1].Steps);
        Assert.AreEqual(1000, byEpoch[2].Samples);
    }

    [TestMethod]
    public void ACheckpointAtTheEndOfAnEpochContinuesWithTheNextEpoch()
    {
        var (train, test) = Data();
        using var acc = new CpuAccelerator();
        using var trainer = new VaeTrainer(acc, Small, Options, train, test);
        trainer.TrainEpoch(1);
        var checkpoint = trainer.CaptureCheckpoint(Signature(train, test));
        Assert.AreEqual(new TrainingPosition(11, 2, 0, 0, 0), checkpoint.Position);
        using var resumed = new VaeTrainer(acc, checkpoint, Options, train, test);
        Assert.AreEqual(2, resumed.Position.Epoch);
        var r = resumed.TrainEpoch(2);
        Assert.AreEqual(22L, r.Step);
        Assert.AreEqual(0, r.ResumedAtStep);
        Assert.IsTrue(checkpoint.IsComplete(Options with { Epochs = 1 }));
        Assert.IsFalse(checkpoint.IsComplete(Options));
        Assert.IsTrue(checkpoint.IsComplete(Options with { MaxSteps = 11 }));
    }

    [TestMethod]
    public void AResumedPartialEpochReportsItsRateAndStartingStep()
    {
        var (train, test) = Data();
        using var acc = new CpuAccelerator();
        using var trainer = new VaeTrainer(acc, Small, Options with { MaxSteps = 4 }, train, test);
        var part = trainer.TrainEpoch(1);
        Assert.IsTrue(part.Partial);
        Assert.IsNotNull(part.TestLoss, "a step limit still evaluates");
        var checkpoint = trainer.CaptureCheckpoint(Signature(train, test));
        Assert.AreEqual(4, checkpoint.Position.StepInEpoch);
        Assert.AreEqual(4 * 96, checkpoint.Position.EpochSamples);
        Assert.AreEqual(part.TrainLoss * part.Samples, checkpoint.Position.EpochLossSum, 1e-9 * checkpoint.Position.EpochLossSum);

        using var resumed = new VaeTrainer(acc, checkpoint, Options, train, test);
        // A checkpoint taken before any step of the resumed run is the one it came from.
        var again = resumed.CaptureCheckpoint(Signature(train, test));
        Assert.AreEqual(checkpoint.Position, again.Position);
        CollectionAssert.AreEqual(checkpoint.SecondMoment, again.SecondMoment);
        var reports = new List<TrainingProgress>();
        var rest = resumed.TrainEpoch(1, progress: reports.Add);
        Assert.AreEqual(4, rest.ResumedAtStep);
        Assert.AreEqual(11, rest.Steps);
        Assert.AreEqual(1000, rest.Samples);
        Assert.IsFalse(rest.Partial);
        Assert.IsTrue(reports.All(p => p.ResumedAtStep == 4));
    }

    [TestMethod]
    public void ACheckpointFromAnotherBatchSizeIsRejected()
    {
        var (train, test) = Data();
        using var acc = new CpuAccelerator();
        using var trainer = new VaeTrainer(acc, Small, Options with { BatchSize = 10, MaxSteps = 50 }, train, test);
        trainer.TrainEpoch(1);
        var checkpoint = trainer.CaptureCheckpoint(Signature(train, test));
        var e = Assert.ThrowsExactly<ArgumentException>(() => new VaeTrainer(acc, checkpoint, Options, train, test));
        StringAssert.Contains(e.Message, "step 50 of epoch 1");
    }
}
