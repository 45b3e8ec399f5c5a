using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
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
/// step in progress), logging metrics.jsonl as it goes and saving checkpoint.safetensors after every
/// epoch (and when stopped), then write model.safetensors, samples.png and reconstructions.png. Every
/// file is replaced atomically, so a job killed at any moment leaves either the previous or the
/// complete new version of each, and `train --resume` continues from the last checkpoint.
/// </summary>
public static class TrainingRun
{
    public const string MetricsFile = "metrics.jsonl", ModelFile = "model.safetensors",
        SamplesFile = "samples.png", ReconstructionsFile = "reconstructions.png";

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
        }).Validate();
        var signature = DataSignature.Of(Path.GetFullPath(settings.DataDirectory), data.Train, data.Test);
        if (resume is not null)
        {
            config = resume.Config;
            if (resume.Data.Difference(signature) is { } difference)
                throw new DataSetException($"the data in {settings.DataDirectory} is not the data of the checkpoint: {difference}", settings.DataDirectory);
        }
        string dir = Path.GetFullPath(settings.RunDirectory);
        Directory.CreateDirectory(dir);
        var metrics = resume is null ? new MetricsLog(Path.Combine(dir, MetricsFile)) : MetricsLog.Continue(Path.Combine(dir, MetricsFile));
        string checkpointPath = Path.Combine(dir, CheckpointFile.FileName);
        var total = Stopwatch.StartNew();

        using var trainer = resume is null
            ? new VaeTrainer(accelerator, config, options, data.Train, data.Test)
            : new VaeTrainer(accelerator, resume, options, data.Train, data.Test);

        if (resume is null)
        {
            metrics.Append(RunLine(accelerator, config, options, settings, trainer));
        }
        else
        {
            var at = trainer.Position;
            metrics.Append(new JsonObject
            {
                ["type"] = "resume", ["resumed"] = DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture),
                ["step"] = at.Step, ["epoch"] = at.Epoch, ["step_in_epoch"] = at.StepInEpoch,
                ["epochs"] = options.Epochs, ["max_steps"] = options.MaxSteps,
                ["device"] = accelerator.Specifier, ["device_name"] = accelerator.Name, ["checkpoint_device"] = resume.Device,
            });
            reporter.Info($"resuming {dir} at step {at.Step} (epoch {at.Epoch}, step {at.StepInEpoch} of {trainer.StepsPerEpoch}) from {CheckpointFile.FileName}");
        }
        reporter.Info($"device {accelerator.Specifier}: {accelerator.Name}");
        reporter.Info($"model {config.Describe()} ({trainer.Network.Layout.ParameterCount:N0} parameters), {config.Likelihood.ToString().ToLowerInvariant()} likelihood, " +
            $"beta {config.Beta.ToString(CultureInfo.InvariantCulture)}; data {settings.DataDirectory}: {trainer.TrainCount} train, {trainer.TestCount} test images");

        var epochs = new List<EpochResult>();
        bool interrupted = false;
        // The step of checkpoint.safetensors as this run last left it (null: none yet), for the divergence message.
        long? savedStep = resume?.Position.Step;
        void SaveCheckpoint()
        {
            CheckpointFile.Save(checkpointPath, trainer.CaptureCheckpoint(signature));
            savedStep = trainer.Step;
        }
        Action? afterStep = settings.CheckpointEvery > 0
            ? () => { if (trainer.Step % settings.CheckpointEvery == 0) SaveCheckpoint(); }
            : null;
        TrainingRunResult outputs;
        try
        {
            for (int epoch = trainer.Position.Epoch; epoch <= options.Epochs && !trainer.StepLimitReached; epoch++)
            {
                var result = trainer.TrainEpoch(epoch, cancellation, reporter.Progress, afterStep);
                epochs.Add(result);
                // The checkpoint before the metrics line: a job killed between the two repeats no epoch.
                SaveCheckpoint();
                metrics.Append(EpochLine(result));
                reporter.Epoch(result);
                if (result.Interrupted) { interrupted = true; break; }
            }
            outputs = WriteOutputs(trainer, data, dir, options, epochs, interrupted);
        }
        catch (TrainingDivergedException e)
        {
            metrics.Append(new JsonObject
            {
                ["type"] = "end", ["step"] = trainer.Step, ["diverged"] = true, ["diverged_at_step"] = e.Step, ["message"] = e.Message,
                ["total_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 3),
            });
            throw new TrainingDivergedException(e.Step, DivergenceMessage(e, savedStep, checkpointPath, options, config), e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // No checkpoint of a state a failure may have left half-updated: the last good one stays.
            metrics.Append(new JsonObject { ["type"] = "error", ["step"] = trainer.Step, ["message"] = e.Message });
            throw;
        }

        metrics.Append(new JsonObject
        {
            ["type"] = "end", ["step"] = trainer.Step, ["epochs"] = epochs.Count == 0 ? 0 : epochs[^1].Epoch, ["interrupted"] = interrupted,
            ["test_loss"] = MetricsLog.Rounded(outputs.FinalTestLoss, 4), ["total_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 3),
        });
        reporter.Info($"wrote {ModelFile}, {SamplesFile}, {ReconstructionsFile}, {MetricsFile}, {CheckpointFile.FileName} to {dir}");
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

    private static TrainingRunResult WriteOutputs(VaeTrainer trainer, IdxDataSet data, string dir, TrainingOptions options,
        List<EpochResult> epochs, bool interrupted)
    {
        var network = trainer.Network;
        var config = network.Config;
        var last = epochs.LastOrDefault();
        var extra = new Dictionary<string, string>
        {
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["steps"] = trainer.Step.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = (last?.Epoch ?? trainer.Position.Epoch - 1).ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["binarize"] = options.Binarize ? "true" : "false",
        };
        if (last?.TestLoss is { } testLoss) extra["test_loss"] = testLoss.ToString("R", CultureInfo.InvariantCulture);

        string modelPath = Path.Combine(dir, ModelFile), samplesPath = Path.Combine(dir, SamplesFile),
            reconstructionsPath = Path.Combine(dir, ReconstructionsFile);
        VaeModelFile.Save(modelPath, config, trainer.DownloadParameters(), extra);

        int count = GridSide * GridSide;
        ImageOutputs.WriteGrid(samplesPath, ImageOutputs.SampleMeans(network, options.Seed, count), count, config, GridSide);

        var source = data.Test.Count > 0 ? data.Test : data.Train;
        int pairs = Math.Min(count, source.Count);
        var (originals, reconstructions) = ImageOutputs.Reconstruct(network, source.Pixels, pairs);
        ImageOutputs.WritePairs(reconstructionsPath, originals, reconstructions, pairs, config, GridSide);

        return new TrainingRunResult(dir, epochs, trainer.Step, interrupted, Path.Combine(dir, MetricsFile), modelPath, samplesPath, reconstructionsPath);
    }

    private static JsonObject RunLine(Accelerator accelerator, VaeConfig config, TrainingOptions options, TrainingRunSettings settings, VaeTrainer trainer) => new()
    {
        ["type"] = "run",
        ["started"] = DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture),
        ["device"] = accelerator.Specifier,
        ["device_name"] = accelerator.Name,
        ["data"] = settings.DataDirectory,
        ["train_images"] = trainer.TrainCount,
        ["test_images"] = trainer.TestCount,
        ["parameters"] = trainer.Network.Layout.ParameterCount,
        ["config"] = new JsonObject
        {
            ["input"] = config.Input,
            ["hidden"] = new JsonArray(config.Hidden.Select(h => (JsonNode?)h).ToArray()),
            ["latent"] = config.Latent,
            ["likelihood"] = config.Likelihood.ToString().ToLowerInvariant(),
            ["beta"] = config.Beta,
            ["sigma"] = config.Sigma,
            ["activation"] = config.Activation.ToString().ToLowerInvariant(),
        },
        ["training"] = new JsonObject
        {
            ["epochs"] = options.Epochs,
            ["max_steps"] = options.MaxSteps,
            ["batch_size"] = options.BatchSize,
            ["steps_per_epoch"] = trainer.StepsPerEpoch,
            ["lr"] = options.Adam.LearningRate,
            ["betas"] = new JsonArray(options.Adam.Beta1, options.Adam.Beta2),
            ["eps"] = options.Adam.Epsilon,
            ["weight_decay"] = options.Adam.WeightDecay,
            ["decoupled_weight_decay"] = options.Adam.Decoupled,
            ["binarize"] = options.Binarize,
            ["seed"] = options.Seed,
            ["eval_batch"] = options.EvalBatch,
        },
    };

    private static JsonObject EpochLine(EpochResult r) => new()
    {
        ["type"] = "epoch",
        ["epoch"] = r.Epoch,
        ["step"] = r.Step,
        ["steps"] = r.Steps,
        ["samples"] = r.Samples,
        ["train_loss"] = MetricsLog.Rounded(r.TrainLoss, 4),
        ["test_loss"] = MetricsLog.Rounded(r.TestLoss, 4),
        ["epoch_seconds"] = Math.Round(r.EpochSeconds, 4),
        ["eval_seconds"] = Math.Round(r.EvalSeconds, 4),
        ["samples_per_s"] = Math.Round(r.SamplesPerSecond, 1),
        ["partial"] = r.Partial,
        ["interrupted"] = r.Interrupted,
        ["resumed_at_step"] = r.ResumedAtStep > 0 ? r.ResumedAtStep : null,
    };
}
