using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Distributed;
using IlgpuVae.Training.Outputs;

namespace IlgpuVae.Training.Loop;

/// <summary>Receives what a run reports as it goes (the command line turns it into a progress bar or log lines).</summary>
public interface ITrainingReporter
{
    void Info(string line);
    void Progress(TrainingProgress progress);
    void Epoch(EpochResult result);
}

/// <summary>
/// What a run trains and where it writes. Resume, when set, is the checkpoint to continue from (its
/// model and settings win over Model; Training carries its settings with the epochs and step limit to
/// reach); CheckpointEvery > 0 also saves a checkpoint every that many steps, besides each epoch's end.
/// </summary>
public sealed record TrainingRunSettings(VaeConfig Model, TrainingOptions Training, string RunDirectory, string DataDirectory)
{
    public TrainingCheckpoint? Resume { get; init; }
    public long CheckpointEvery { get; init; }

    /// <summary>The ranks that train together; rank 0 alone writes the run directory's files.</summary>
    public ICommunicator Communicator { get; init; } = SingleProcess.Instance;
}

/// <summary>What a run produced.</summary>
public sealed record TrainingRunResult(string RunDirectory, IReadOnlyList<EpochResult> Epochs, long Steps, bool Interrupted,
    string MetricsPath, string ModelPath, string SamplesPath, string ReconstructionsPath)
{
    public double? FinalTestLoss => Epochs.LastOrDefault(e => e.TestLoss is not null)?.TestLoss;

    public string CheckpointPath => Path.Combine(RunDirectory, CheckpointFile.FileName);
}

/// <summary>
/// A whole training job: train for the epochs (or up to the step limit, or until cancelled after the
/// step or evaluation batch in progress), appending to metrics.jsonl as it goes and saving
/// checkpoint.safetensors after every epoch; the last epoch writes model.safetensors, samples.png and
/// reconstructions.png before its checkpoint, and loss.png is drawn again from the metrics after every
/// epoch line. Every other file is replaced atomically, so a job killed
/// at any moment leaves either the previous or the complete new version of each, and `train --resume`
/// continues from the last checkpoint. A diverged run (NaN or infinity) ends with a
/// <see cref="TrainingDivergedException"/> and never writes a non-finite parameter.
/// </summary>
public static class TrainingRun
{
    public const string MetricsFile = "metrics.jsonl", ModelFile = "model.safetensors",
        SamplesFile = "samples.png", ReconstructionsFile = "reconstructions.png", LossFile = LossPlot.FileName;

    /// <summary>A KL below this (nats per image) means the posterior of that layer is the prior: the layer carries nothing.</summary>
    public const double CollapsedKl = 0.05;

    /// <summary>Images in samples.png (an 8 x 8 grid) and pairs in reconstructions.png (8 rows of 8 pairs).</summary>
    public const int GridSide = 8;

    public static TrainingRunResult Execute(Accelerator accelerator, IdxDataSet data, TrainingRunSettings settings,
        ITrainingReporter reporter, CancellationToken cancellation = default)
    {
        var options = settings.Training.Validate();
        var resume = settings.Resume;
        var config = (settings.Model with
        {
            Input = data.Train.Rows * data.Train.Columns, ImageHeight = data.Train.Rows, ImageWidth = data.Train.Columns,
            Classes = settings.Model.Kind == ModelKind.Conditional && settings.Model.Classes == 0 ? ClassesOf(data) : settings.Model.Classes,
        }).Validate();
        var signature = DataSignature.Of(Path.GetFullPath(settings.DataDirectory), data.Train, data.Test);
        if (resume is not null)
        {
            config = resume.Config;
            if (resume.Data.Difference(signature) is { } difference)
                throw new DataSetException($"the data in {settings.DataDirectory} is not the data of the checkpoint: {difference}", settings.DataDirectory);
        }
        string dir = Path.GetFullPath(settings.RunDirectory);
        // In a parallel run every rank trains and takes part in every collective call; rank 0 alone writes.
        bool writer = settings.Communicator.Rank == 0;
        if (writer) Directory.CreateDirectory(dir);
        MetricsLog? metrics = !writer ? null
            : resume is null ? MetricsLog.Start(Path.Combine(dir, MetricsFile)) : MetricsLog.Continue(Path.Combine(dir, MetricsFile));
        string checkpointPath = Path.Combine(dir, CheckpointFile.FileName);
        var total = Stopwatch.StartNew();

        using var trainer = resume is null
            ? Trainers.Create(accelerator, config, options, data, settings.Communicator)
            : Trainers.Resume(accelerator, resume, options, data, settings.Communicator);

        if (resume is null)
        {
            metrics?.Append(MetricsLines.RunLine(accelerator, config, options, settings, trainer));
        }
        else
        {
            var at = trainer.Position;
            metrics?.Append(MetricsLines.ResumeLine(accelerator, options, at, resume.Device));
            reporter.Info($"resuming {dir} at step {at.Step} (epoch {at.Epoch}, step {at.StepInEpoch} of {trainer.StepsPerEpoch}) from {CheckpointFile.FileName}");
        }
        reporter.Info($"device {accelerator.Specifier}: {accelerator.Name}");
        reporter.Info($"model {config.Describe()} ({trainer.Layout.ParameterCount:N0} parameters), {config.Likelihood.ToString().ToLowerInvariant()} likelihood, " +
            $"beta {config.Beta.ToString(CultureInfo.InvariantCulture)}; data {settings.DataDirectory}: {trainer.TrainCount} train, {trainer.TestCount} test images");

        var epochs = new List<EpochResult>();
        bool interrupted = false, lossDrawn = false;
        // The step of checkpoint.safetensors as this run last left it (null: none yet), for the divergence message.
        long? savedStep = resume?.Position.Step;
        void SaveCheckpoint()
        {
            var checkpoint = trainer.CaptureCheckpoint(signature); // every rank: it reads back the losses of all
            if (writer) CheckpointFile.Save(checkpointPath, checkpoint);
            savedStep = trainer.Step;
        }
        Action? afterStep = settings.CheckpointEvery > 0
            ? () => { if (trainer.Step % settings.CheckpointEvery == 0) SaveCheckpoint(); }
            : null;
        TrainingRunResult? outputs = null;
        try
        {
            for (int epoch = trainer.Position.Epoch; epoch <= options.Epochs && !trainer.StepLimitReached; epoch++)
            {
                var result = trainer.TrainEpoch(epoch, cancellation, reporter.Progress, afterStep);
                epochs.Add(result);
                interrupted = result.Interrupted;
                // The outputs before the checkpoint that ends the run: a requeued job finds a complete
                // checkpoint only beside the outputs of its state (a kill between the two trains the
                // last epoch again and writes the same outputs).
                if (interrupted || epoch + 1 > options.Epochs || trainer.StepLimitReached)
                    outputs = writer ? WriteOutputs(trainer, data, dir, options, result.Epoch, result.TestLoss, epochs) : Result(trainer, dir, epochs);
                // The checkpoint before the metrics line: a job killed between the two repeats no epoch.
                SaveCheckpoint();
                metrics?.Append(MetricsLines.EpochLine(result), durable: true);
                if (writer) lossDrawn = WriteLossPlot(dir, reporter);
                reporter.Epoch(result);
                foreach (var (term, kl) in result.TestKl ?? new Dictionary<string, double>())
                    if (kl < CollapsedKl)
                        reporter.Info($"warning: epoch {result.Epoch}: the test {term} is {kl.ToString("G3", CultureInfo.InvariantCulture)} nats per image: " +
                            "that latent layer has collapsed (the decoder ignores it); a smaller --beta or fewer latent units may revive it");
                if (interrupted) break;
            }
            outputs ??= writer ? WriteOutputs(trainer, data, dir, options, CompletedEpoch(trainer.Position), null, epochs) : Result(trainer, dir, epochs);
        }
        catch (TrainingDivergedException e)
        {
            metrics?.TryAppend(new JsonObject
            {
                ["type"] = "end", ["step"] = trainer.Step, ["diverged"] = true, ["diverged_at_step"] = e.Step, ["message"] = e.Message,
                ["total_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 3),
            }, durable: true);
            throw new TrainingDivergedException(e.Step, DivergenceMessage(e, savedStep, checkpointPath, options, config), e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // No checkpoint of a state a failure may have left half-updated: the last good one stays.
            metrics?.TryAppend(new JsonObject { ["type"] = "error", ["step"] = trainer.Step, ["message"] = e.Message }, durable: true);
            throw;
        }

        metrics?.Append(new JsonObject
        {
            ["type"] = "end", ["step"] = trainer.Step, ["epochs"] = epochs.Count == 0 ? 0 : epochs[^1].Epoch, ["interrupted"] = interrupted,
            ["test_loss"] = MetricsLog.Rounded(outputs.FinalTestLoss, 4), ["total_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 3),
        }, durable: true);
        string pictures = (config.Kind == ModelKind.Gan ? SamplesFile : $"{SamplesFile}, {ReconstructionsFile}") + (lossDrawn ? $", {LossFile}" : "");
        reporter.Info($"wrote {ModelFile}, {pictures}, {MetricsFile}, {CheckpointFile.FileName} to {dir}");
        return outputs;
    }

    /// <summary>What diverged, what was kept, and what to change.</summary>
    private static string DivergenceMessage(TrainingDivergedException e, long? savedStep, string checkpointPath, TrainingOptions options,
        VaeConfig config)
    {
        var c = CultureInfo.InvariantCulture;
        string kept = savedStep is { } step
            ? $"{checkpointPath} still holds the finite state of step {step}"
            : "no checkpoint or model was written";
        string sigma = config.Likelihood == Likelihood.Gaussian ? $", a larger --sigma (now {config.Sigma.ToString(c)})" : "";
        return $"training diverged at step {e.Step}: {e.Message}; nothing non-finite was saved ({kept}). " +
            $"Start a new run (another --run-dir) with a smaller --lr (now {options.Adam.LearningRate.ToString(c)}; try {(options.Adam.LearningRate / 10).ToString(c)})" +
            $"{sigma} or a smaller --beta (now {config.Beta.ToString(c)})";
    }

    /// <summary>
    /// The outputs of a complete run that do not show its final state: model.safetensors missing or of
    /// another step than the checkpoint, an image missing or older than the model. A job killed between
    /// the final checkpoint and its outputs by an earlier version of this program leaves such a run, as
    /// does a file removed by hand. Empty when every output is current.
    /// </summary>
    public static IReadOnlyList<string> OutdatedOutputs(string runDirectory, TrainingCheckpoint checkpoint)
    {
        string model = Path.Combine(runDirectory, ModelFile);
        bool modelCurrent;
        try
        {
            modelCurrent = File.Exists(model) && VaeModelFile.Load(model).Metadata.TryGetValue("steps", out string? steps)
                && steps == checkpoint.Position.Step.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidDataException)
        {
            modelCurrent = false;
        }
        var outdated = new List<string>();
        if (!modelCurrent) outdated.Add(ModelFile);
        // The images are written after the model: one older than the model is of an earlier state.
        string[] images = checkpoint.Config.Kind == ModelKind.Gan ? [SamplesFile] : [SamplesFile, ReconstructionsFile];
        foreach (string image in images)
        {
            string path = Path.Combine(runDirectory, image);
            if (!modelCurrent || !File.Exists(path) || File.GetLastWriteTimeUtc(path) < File.GetLastWriteTimeUtc(model)) outdated.Add(image);
        }
        // The loss chart is drawn from the metrics after each epoch line, so only a missing one is out of date.
        if (!File.Exists(Path.Combine(runDirectory, LossFile)) && File.Exists(Path.Combine(runDirectory, MetricsFile))) outdated.Add(LossFile);
        return outdated;
    }

    /// <summary>
    /// Writes model.safetensors, samples.png and reconstructions.png of a complete run from its checkpoint,
    /// byte for byte what the run wrote (or would have) on the same device: the test loss in the model's
    /// metadata is evaluated again, on the same parameters with the same noise.
    /// </summary>
    public static void RewriteOutputs(Accelerator accelerator, IdxDataSet data, string dataDirectory, string runDirectory,
        TrainingCheckpoint checkpoint, TrainingOptions options)
    {
        var signature = DataSignature.Of(Path.GetFullPath(dataDirectory), data.Train, data.Test);
        if (checkpoint.Data.Difference(signature) is { } difference)
            throw new DataSetException($"the data in {dataDirectory} is not the data of the checkpoint: {difference}", dataDirectory);
        using var trainer = Trainers.Resume(accelerator, checkpoint, options, data, SingleProcess.Instance);
        WriteOutputs(trainer, data, Path.GetFullPath(runDirectory), options, CompletedEpoch(trainer.Position), trainer.Evaluate(), []);
        string metrics = Path.Combine(runDirectory, MetricsFile);
        try
        {
            if (File.Exists(metrics)) LossPlot.Write(metrics, Path.Combine(runDirectory, LossFile));
        }
        catch (Exception e) when (LineCharts.IsDrawingFailure(e))
        {
            // Without the chart library's native part the run went on without its chart: so does its requeue.
        }
    }

    /// <summary>
    /// loss.png from the run's metrics, after each epoch line. A chart that cannot be drawn because the
    /// drawing library is missing (a publish without its native Skia) is a warning: it never stops the
    /// training; a file that cannot be written (a full disk) fails the run like every other output.
    /// </summary>
    private static bool WriteLossPlot(string dir, ITrainingReporter reporter)
    {
        try
        {
            LossPlot.Write(Path.Combine(dir, MetricsFile), Path.Combine(dir, LossFile));
            return true;
        }
        catch (Exception e) when (LineCharts.IsDrawingFailure(e))
        {
            reporter.Info($"warning: {LossFile} not drawn (the chart library's native Skia is missing or unusable): {LineCharts.Reason(e)}");
            return false;
        }
    }

    /// <summary>The last epoch whose steps a position has all taken, or the epoch it stands in (a run stopped by its step limit).</summary>
    private static int CompletedEpoch(TrainingPosition p) => p.StepInEpoch > 0 ? p.Epoch : p.Epoch - 1;

    /// <summary>model.safetensors, samples.png and reconstructions.png of the trainer's state after epoch (whose test loss is testLoss).</summary>
    private static TrainingRunResult WriteOutputs(ITrainer trainer, IdxDataSet data, string dir, TrainingOptions options, int epoch,
        double? testLoss, List<EpochResult> epochs)
    {
        var config = trainer.Layout.Config;
        var extra = new Dictionary<string, string>
        {
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["steps"] = trainer.Step.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["binarize"] = options.Binarize ? "true" : "false",
            ["corrupt"] = options.Corruption.ToString(),
            ["estimator"] = GradientEstimators.Name(options.Estimator),
        };
        if (config.Kind == ModelKind.Gan)
        {
            extra["d_steps"] = options.DiscriminatorSteps.ToString(CultureInfo.InvariantCulture);
            extra["gan_loss"] = GanLosses.Name(options.GanLoss);
        }
        if (testLoss is { } loss) extra["test_loss"] = loss.ToString("R", CultureInfo.InvariantCulture);

        string modelPath = Path.Combine(dir, ModelFile), samplesPath = Path.Combine(dir, SamplesFile),
            reconstructionsPath = Path.Combine(dir, ReconstructionsFile);
        VaeModelFile.Save(modelPath, config, trainer.DownloadParameters(), extra);

        int count = GridSide * GridSide;
        if (trainer is GanTrainer gan)
        {
            // A GAN has no encoder: its samples are its only picture.
            ImageOutputs.WriteGrid(samplesPath, gan.SampleImages(options.Seed, count), count, config, GridSide);
            return Result(trainer, dir, epochs);
        }
        var network = ((VaeTrainer)trainer).Network;
        if (config.Classes > 0)
        {
            // A conditional model's samples: one row of GridSide draws for each class.
            byte[] labels = ClassRows(config.Classes, GridSide);
            ImageOutputs.WriteGrid(samplesPath, ImageOutputs.SampleMeans(network, options.Seed, labels.Length, labels), labels.Length, config, GridSide);
        }
        else
        {
            ImageOutputs.WriteGrid(samplesPath, ImageOutputs.SampleMeans(network, options.Seed, count), count, config, GridSide);
        }

        bool test = data.Test.Count > 0;
        var source = test ? data.Test : data.Train;
        int pairs = Math.Min(count, source.Count);
        var (originals, reconstructions) = ImageOutputs.Reconstruct(network, source.Pixels, pairs, test ? data.TestLabels : data.TrainLabels);
        ImageOutputs.WritePairs(reconstructionsPath, originals, reconstructions, pairs, config, GridSide);

        return Result(trainer, dir, epochs);
    }

    /// <summary>The classes the data's labels name: the largest label + 1 (at least 2).</summary>
    public static int ClassesOf(IdxDataSet data)
    {
        int largest = 0;
        foreach (byte label in data.TrainLabels) largest = Math.Max(largest, label);
        foreach (byte label in data.TestLabels) largest = Math.Max(largest, label);
        return Math.Max(2, largest + 1);
    }

    /// <summary>Labels 0, 0, ..., 1, 1, ...: perRow of each class, a grid row per class.</summary>
    public static byte[] ClassRows(int classes, int perRow) =>
        Enumerable.Range(0, classes).SelectMany(c => Enumerable.Repeat((byte)c, perRow)).ToArray();

    /// <summary>What a run produced, where rank 0 writes it.</summary>
    private static TrainingRunResult Result(ITrainer trainer, string dir, List<EpochResult> epochs)
        => new(dir, epochs, trainer.Step, epochs.LastOrDefault()?.Interrupted ?? false, Path.Combine(dir, MetricsFile),
            Path.Combine(dir, ModelFile), Path.Combine(dir, SamplesFile), Path.Combine(dir, ReconstructionsFile));
}
