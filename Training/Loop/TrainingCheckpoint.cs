using IlgpuVae.Model;
using IlgpuVae.Training.Data;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// Where a run stands between two steps: the next step is step <see cref="StepInEpoch"/> (0-based) of
/// epoch <see cref="Epoch"/> (1-based). The loss sum and sample count of that epoch's steps already
/// taken travel with it, so a resumed epoch still reports the mean over the whole epoch.
/// </summary>
public readonly record struct TrainingPosition(long Step, int Epoch, int StepInEpoch, double EpochLossSum, int EpochSamples)
{
    /// <summary>A new run: nothing trained, epoch 1 next.</summary>
    public static TrainingPosition Start => new(0, 1, 0, 0, 0);
}

/// <summary>
/// Everything a run needs to continue as if it had never stopped: the model, the optimiser's moments
/// and step count, the training settings, the position, and what the data looked like. Every random
/// draw of a step is keyed by (seed, step) and the shuffle by (seed, epoch), so no RNG state is needed:
/// on the same device a resumed run produces the same bits as an uninterrupted one.
/// </summary>
public sealed record TrainingCheckpoint(
    VaeConfig Config,
    TrainingOptions Options,
    TrainingPosition Position,
    float[] Parameters,
    float[] FirstMoment,
    float[] SecondMoment,
    DataSignature Data,
    string Device)
{
    /// <summary>Whether the run has trained every epoch (or up to its step limit) that its options ask for.</summary>
    public bool IsComplete(TrainingOptions options)
        => Position.Epoch > options.Epochs || (options.MaxSteps is { } max && Position.Step >= max);
}

/// <summary>What identifies a data set for a resume check: the sizes, and a fingerprint of the training pixels.</summary>
public sealed record DataSignature(string Directory, int TrainImages, int TestImages, int Rows, int Columns, ulong TrainFingerprint)
{
    public static DataSignature Of(string directory, IdxImages train, IdxImages test) => new(directory, train.Count, test.Count,
        train.Rows, train.Columns, DataFingerprint.Compute(train.Pixels.AsSpan(0, train.Count * train.PixelsPerImage)));

    /// <summary>Null when other describes the same data, else a sentence saying what differs.</summary>
    public string? Difference(DataSignature other)
    {
        if (TrainImages != other.TrainImages || TestImages != other.TestImages)
            return $"it holds {other.TrainImages} training and {other.TestImages} test images; the run was trained on {TrainImages} and {TestImages}";
        if (Rows != other.Rows || Columns != other.Columns)
            return $"its images are {other.Rows}x{other.Columns}; the run's were {Rows}x{Columns}";
        if (TrainFingerprint != other.TrainFingerprint)
            return "its training images differ from the ones the run was trained on (fingerprint " +
                $"{other.TrainFingerprint:x16}, the run's {TrainFingerprint:x16})";
        return null;
    }
}
