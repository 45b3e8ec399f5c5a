using IlgpuVae.Host.CommandLine;
using IlgpuVae.Tests.Host;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// loss.png: drawn from metrics.jsonl after every epoch, the same bytes for the same numbers, covering
/// every epoch of a resumed run (and then the uninterrupted run's picture), a GAN's three losses.
/// </summary>
[TestClass]
public sealed class LossPlotTests
{
    // 300 images in batches of 64: 5 steps an epoch.
    private static string[] Train(string data, string run, params string[] more) =>
        ["train", "--hidden", "32", "--latent", "4", "--batch-size", "64", "--seed", "5", "--eval-batch", "100", "--epochs", "3",
            "--data", data, "--run-dir", run, "--quiet", .. more];

    [TestMethod]
    public void TrainWritesAValidLossChartAndAResumedRunDrawsTheUninterruptedRunsChart()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);

        var straight = CliRunner.Run(Train(temp["data"], temp["straight"]));
        Assert.AreEqual(ExitCodes.Ok, straight.ExitCode, straight.Error);
        string chart = Path.Combine(temp["straight"], LossPlot.FileName);
        var (ok, output) = CliRunner.PngCheck(chart);
        Assert.IsTrue(ok, output);
        Assert.AreEqual((LineCharts.Width, LineCharts.Height), CliRunner.PngSize(chart));
        var curves = LossPlot.Read(Path.Combine(temp["straight"], "metrics.jsonl"));
        CollectionAssert.AreEqual(new[] { "train", "test" }, curves.Series.Select(s => s.Label).ToArray());
        foreach (var series in curves.Series) CollectionAssert.AreEqual(new[] { 1.0, 2.0, 3.0 }, series.Epochs.ToArray(), series.Label);
        Assert.IsTrue(curves.Series[1].Values.All(double.IsFinite));

        // Stopped by a step limit inside epoch 2 (7 of 15 steps): the chart shows the partial epoch at 1.4.
        var first = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "7"));
        Assert.AreEqual(ExitCodes.Ok, first.ExitCode, first.Error);
        var part = LossPlot.Read(Path.Combine(temp["run"], "metrics.jsonl"));
        CollectionAssert.AreEqual(new[] { 1.0, 1.4 }, part.Series[0].Epochs.Select(e => Math.Round(e, 12)).ToArray());
        Assert.IsTrue(CliRunner.PngCheck(Path.Combine(temp["run"], LossPlot.FileName)).Ok);

        // Resumed to the end: every epoch, one point each, and the bytes of the run that never stopped.
        var rest = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "100"));
        Assert.AreEqual(ExitCodes.Ok, rest.ExitCode, rest.Error);
        var resumed = LossPlot.Read(Path.Combine(temp["run"], "metrics.jsonl"));
        for (int s = 0; s < curves.Series.Count; s++)
        {
            CollectionAssert.AreEqual(curves.Series[s].Epochs.ToArray(), resumed.Series[s].Epochs.ToArray(), curves.Series[s].Label);
            CollectionAssert.AreEqual(curves.Series[s].Values.ToArray(), resumed.Series[s].Values.ToArray(), curves.Series[s].Label);
        }
        byte[] expected = File.ReadAllBytes(chart);
        CollectionAssert.AreEqual(expected, File.ReadAllBytes(Path.Combine(temp["run"], LossPlot.FileName)),
            "the resumed run's loss.png is the uninterrupted run's");

        // A complete run whose chart is gone gets it back on the next --resume.
        File.Delete(Path.Combine(temp["run"], LossPlot.FileName));
        var requeued = CliRunner.Run(Train(temp["data"], temp["run"], "--resume", "--max-steps", "100").Where(a => a != "--quiet").ToArray());
        Assert.AreEqual(ExitCodes.Ok, requeued.ExitCode, requeued.Error);
        StringAssert.Contains(requeued.Out, "rewrote");
        StringAssert.Contains(requeued.Out, LossPlot.FileName);
        CollectionAssert.AreEqual(expected, File.ReadAllBytes(Path.Combine(temp["run"], LossPlot.FileName)));
        Assert.IsEmpty(Directory.GetFiles(temp["run"], ".*.tmp"), "no temporary file is left");
    }

    [TestMethod]
    public void TheSameCurvesGiveTheSameBytes()
    {
        var curves = new LossCurves("mlp VAE: loss per epoch", "negative ELBO (nats per image)",
        [
            new LossSeries("train", [1, 2, 3, 4], [280.5, 260.25, 251.0, 247.75]),
            new LossSeries("test", [1, 2, 3, 4], [270.0, 255.5, 250.0, 248.5]),
        ]);
        byte[] a = LossPlot.Render(curves), b = LossPlot.Render(curves with { });
        CollectionAssert.AreEqual(a, b);
        Assert.IsTrue(a.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }));
        var other = curves with { Series = [curves.Series[0], new LossSeries("test", [1, 2, 3, 4], [270.0, 255.5, 250.0, 240.0])] };
        Assert.IsFalse(a.AsSpan().SequenceEqual(LossPlot.Render(other)), "other numbers draw another picture");

        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["loss.png"], a);
        var (ok, output) = CliRunner.PngCheck(temp["loss.png"]);
        Assert.IsTrue(ok, output);
    }

    [TestMethod]
    public void AMissingNativeLibraryIsADrawingFailureNamedByItsFirstSentence()
    {
        var missing = new TypeInitializationException("ScottPlot.Fonts",
            new DllNotFoundException("Unable to load shared library 'libSkiaSharp' or one of its dependencies. In order to help diagnose ...\n/x/libSkiaSharp.so: cannot open"));
        Assert.IsTrue(LineCharts.IsDrawingFailure(missing));
        Assert.AreEqual("Unable to load shared library 'libSkiaSharp' or one of its dependencies.", LineCharts.Reason(missing));
        Assert.IsFalse(LineCharts.IsDrawingFailure(new IOException("No space left on device")), "a full disk fails the run like any output");
        Assert.IsFalse(LineCharts.IsDrawingFailure(new TypeInitializationException("T", new InvalidOperationException())));
    }

    [TestMethod]
    public void AGansChartHasTheDiscriminatorsAndTheGeneratorsLosses()
    {
        using var temp = new TempDirectory();
        string metrics = temp["metrics.jsonl"];
        File.WriteAllLines(metrics,
        [
            """{"type":"run","config":{"kind":"gan","beta":1},"training":{"steps_per_epoch":10}}""",
            """{"type":"epoch","epoch":1,"steps":10,"train_loss":0.4,"test_loss":0.55,"extra":{"g_loss":2.8,"d_accuracy_real":0.9}}""",
            """{"type":"epoch","epoch":2,"steps":4,"train_loss":0.45,"test_loss":null,"extra":null,"interrupted":true}""",
            """{"type":"resume","step":14}""",
            """{"type":"epoch","epoch":2,"steps":10,"train_loss":0.47,"test_loss":0.52,"extra":{"g_loss":2.4}}""",
            """{"type":"end","step":20}""",
            """{"type":"epoch","epoch":3,"ste""",
        ]);
        var curves = LossPlot.Read(metrics);
        CollectionAssert.AreEqual(new[] { "discriminator, train", "discriminator, test", "generator, train" }, curves.Series.Select(s => s.Label).ToArray());
        CollectionAssert.AreEqual(new[] { 0.4, 0.47 }, curves.Series[0].Values.ToArray(), "epoch 2 is drawn from its last line");
        CollectionAssert.AreEqual(new[] { 0.55, 0.52 }, curves.Series[1].Values.ToArray());
        CollectionAssert.AreEqual(new[] { 2.8, 2.4 }, curves.Series[2].Values.ToArray());
        CollectionAssert.AreEqual(new[] { 1.0, 2.0 }, curves.Series[2].Epochs.ToArray());
        StringAssert.Contains(curves.Title, "GAN");

        LossPlot.Write(metrics, temp["loss.png"]);
        var (ok, output) = CliRunner.PngCheck(temp["loss.png"]);
        Assert.IsTrue(ok, output);
    }

    [TestMethod]
    public void AGanRunWritesItsChart()
    {
        using var temp = new TempDirectory();
        FashionMnist.WriteSubset(temp["data"], trainCount: 300, testCount: 100);
        var run = CliRunner.Run("train", "--model", "gan", "--hidden", "16", "--latent", "4", "--batch-size", "64", "--epochs", "2",
            "--data", temp["data"], "--run-dir", temp["run"], "--quiet");
        Assert.AreEqual(ExitCodes.Ok, run.ExitCode, run.Error);
        var curves = LossPlot.Read(Path.Combine(temp["run"], "metrics.jsonl"));
        Assert.HasCount(3, curves.Series);
        Assert.IsTrue(curves.Series.All(s => s.Epochs.SequenceEqual([1.0, 2.0])), string.Join("; ", curves.Series.Select(s => $"{s.Label}: {string.Join(", ", s.Epochs)}")));
        Assert.IsTrue(CliRunner.PngCheck(Path.Combine(temp["run"], LossPlot.FileName)).Ok);
    }
}
