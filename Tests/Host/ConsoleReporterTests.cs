using IlgpuVae.Host;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Tests.Host;

[TestClass]
public sealed class ConsoleReporterTests
{
    private static readonly TrainingProgress Halfway = new(2, 10, 200, 400, 669, 251.25, 5400, 3.5);
    private static readonly EpochResult Done = new(2, 869, 469, 60000, 255.5, 253.25, 7.5, 0.8, 8000, false, false);

    [TestMethod]
    public void TerminalGetsOneRedrawnBarThatTheEpochLineReplaces()
    {
        var output = new StringWriter();
        var reporter = new ConsoleReporter(output, isTerminal: true, quiet: false);
        reporter.Progress(Halfway);
        reporter.Progress(Halfway with { StepInEpoch = 300 });
        reporter.Epoch(Done);
        string text = output.ToString();
        Assert.AreEqual(0, text.Count(c => c == '\n') - 1, "only the epoch line ends a line");
        StringAssert.Contains(text, "\repoch 2/10 [############............] 200/400 loss 251.25 5,400 samples/s");
        StringAssert.Contains(text, "[##################......] 300/400");
        StringAssert.EndsWith(text, "epoch 2 step 869 train_loss 255.500 test_loss 253.250 epoch_s 7.50 samples_per_s 8000\n");
    }

    [TestMethod]
    public void RedirectedOutputGetsPlainLinesAndQuietNothing()
    {
        var output = new StringWriter();
        var reporter = new ConsoleReporter(output, isTerminal: false, quiet: false);
        reporter.Info("device cpu");
        reporter.Progress(Halfway);
        reporter.Epoch(Done with { TestLoss = null, Interrupted = true });
        Assert.AreEqual("device cpu\nepoch 2/10 step 200/400 loss 251.25 samples/s 5,400\n" +
            "epoch 2 step 869 train_loss 255.500 test_loss n/a epoch_s 7.50 samples_per_s 8000 (interrupted)\n", output.ToString());

        var quiet = new StringWriter();
        var silent = new ConsoleReporter(quiet, isTerminal: true, quiet: true);
        silent.Info("x");
        silent.Progress(Halfway);
        silent.Epoch(Done);
        Assert.AreEqual("", quiet.ToString());
    }
}
