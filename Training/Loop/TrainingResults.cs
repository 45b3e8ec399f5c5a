namespace IlgpuVae.Training.Loop;

/// <summary>A progress report inside an epoch, made every <see cref="TrainingOptions.ProgressEvery"/> steps.</summary>
/// <param name="RecentLoss">Mean per-sample loss over the steps since the previous report.</param>
/// <param name="SamplesPerSecond">Training throughput of the epoch so far.</param>
/// <param name="ResumedAtStep">The step of the epoch this process started at (0 unless resumed); ElapsedSeconds counts from there.</param>
public readonly record struct TrainingProgress(
    int Epoch, int Epochs, int StepInEpoch, int StepsInEpoch, long Step, double RecentLoss, double SamplesPerSecond, double ElapsedSeconds,
    int ResumedAtStep = 0);

/// <summary>
/// One epoch's numbers: the mean per-sample training loss over the samples it trained on, the test
/// loss (mean per-image reconstruction + beta KL, the negative ELBO for beta = 1, with one z sample; null when the run was interrupted before it),
/// and the training time and rate (evaluation excluded, as the PyTorch reference times it). Steps and Samples
/// count the whole epoch; when it was resumed at step ResumedAtStep, the time and rate are of this part only.
/// </summary>
public sealed record EpochResult(
    int Epoch, long Step, int Steps, int Samples, double TrainLoss, double? TestLoss,
    double EpochSeconds, double EvalSeconds, double SamplesPerSecond, bool Partial, bool Interrupted, int ResumedAtStep = 0)
{
    /// <summary>Mean per-image KL of each latent layer on the test set ("kl", or "kl_z1" and "kl_z2"), unweighted; null with the test loss.</summary>
    public IReadOnlyDictionary<string, double>? TestKl { get; init; }

    /// <summary>A model's own numbers (a GAN: the generator's loss and the discriminator's accuracies).</summary>
    public IReadOnlyDictionary<string, double>? Extra { get; init; }
}
