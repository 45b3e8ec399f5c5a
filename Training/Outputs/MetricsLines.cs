using System.Globalization;
using System.Text.Json.Nodes;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Training.Outputs;

/// <summary>The lines of metrics.jsonl that a training run writes, one JSON object each.</summary>
internal static class MetricsLines
{
    public static JsonObject RunLine(Accelerator accelerator, VaeConfig config, TrainingOptions options, TrainingRunSettings settings, ITrainer trainer) => new()
    {
        ["type"] = "run",
        ["started"] = DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture),
        ["device"] = accelerator.Specifier,
        ["device_name"] = accelerator.Name,
        ["ranks"] = settings.Communicator.Size,
        ["data"] = settings.DataDirectory,
        ["train_images"] = trainer.TrainCount,
        ["test_images"] = trainer.TestCount,
        ["parameters"] = trainer.Layout.ParameterCount,
        ["config"] = new JsonObject
        {
            ["kind"] = ModelKinds.Of(config.Kind).Name,
            ["classes"] = config.Classes,
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
            ["corrupt"] = options.Corruption.ToString(),
            ["estimator"] = GradientEstimators.Name(options.Estimator),
            ["kl_warmup_steps"] = options.KlWarmupSteps,
            ["free_bits"] = options.FreeBits,
            ["d_steps"] = config.Kind == ModelKind.Gan ? options.DiscriminatorSteps : null,
            ["gan_loss"] = config.Kind == ModelKind.Gan ? GanLosses.Name(options.GanLoss) : null,
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

    public static JsonObject EpochLine(EpochResult r) => new()
    {
        ["type"] = "epoch",
        ["epoch"] = r.Epoch,
        ["step"] = r.Step,
        ["steps"] = r.Steps,
        ["samples"] = r.Samples,
        ["train_loss"] = MetricsLog.Rounded(r.TrainLoss, 4),
        ["test_loss"] = MetricsLog.Rounded(r.TestLoss, 4),
        ["extra"] = r.Extra is null ? null : new JsonObject(r.Extra.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)MetricsLog.Rounded(p.Value, 4)))),
        ["test_kl"] = r.TestKl is null ? null : new JsonObject(r.TestKl.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)MetricsLog.Rounded(p.Value, 4)))),
        ["epoch_seconds"] = Math.Round(r.EpochSeconds, 4),
        ["eval_seconds"] = Math.Round(r.EvalSeconds, 4),
        ["samples_per_s"] = Math.Round(r.SamplesPerSecond, 1),
        ["partial"] = r.Partial,
        ["interrupted"] = r.Interrupted,
        ["resumed_at_step"] = r.ResumedAtStep > 0 ? r.ResumedAtStep : null,
    };

    public static JsonObject ResumeLine(Accelerator accelerator, TrainingOptions options, TrainingPosition at, string checkpointDevice) => new()
    {
        ["type"] = "resume", ["resumed"] = DateTimeOffset.Now.ToString("o", CultureInfo.InvariantCulture),
        ["step"] = at.Step, ["epoch"] = at.Epoch, ["step_in_epoch"] = at.StepInEpoch,
        ["epochs"] = options.Epochs, ["max_steps"] = options.MaxSteps,
        ["device"] = accelerator.Specifier, ["device_name"] = accelerator.Name, ["checkpoint_device"] = checkpointDevice,
    };
}
