using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Distributed;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// What a run (<see cref="TrainingRun"/>) asks of a trainer: epochs, the position, checkpoints and the
/// parameters. <see cref="VaeTrainer"/> trains the VAEs, <see cref="GanTrainer"/> the GAN.
/// </summary>
public interface ITrainer : IDisposable
{
    ParameterLayout Layout { get; }
    int TrainCount { get; }
    int TestCount { get; }
    int StepsPerEpoch { get; }
    long Step { get; }
    TrainingPosition Position { get; }
    bool StepLimitReached { get; }

    EpochResult TrainEpoch(int epoch, CancellationToken cancellation = default, Action<TrainingProgress>? progress = null, Action? afterStep = null);
    TrainingCheckpoint CaptureCheckpoint(DataSignature data);
    double Evaluate();
    float[] DownloadParameters();
}

/// <summary>The trainer of a configuration's kind.</summary>
public static class Trainers
{
    public static ITrainer Create(Kernels.Accelerator accelerator, VaeConfig config, TrainingOptions options, IdxDataSet data, ICommunicator communicator)
        => config.Kind == ModelKind.Gan
            ? new GanTrainer(accelerator, config, options, data) { Communicator = communicator }
            : new VaeTrainer(accelerator, config, options, data) { Communicator = communicator };

    public static ITrainer Resume(Kernels.Accelerator accelerator, TrainingCheckpoint checkpoint, TrainingOptions options, IdxDataSet data, ICommunicator communicator)
        => checkpoint.Config.Kind == ModelKind.Gan
            ? new GanTrainer(accelerator, checkpoint, options, data) { Communicator = communicator }
            : new VaeTrainer(accelerator, checkpoint, options, data) { Communicator = communicator };
}
