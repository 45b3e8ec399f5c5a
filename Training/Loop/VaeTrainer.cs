using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// The training loop. Both data sets live on the device as uint8 for the whole run; an epoch uploads
/// its shuffled order once, and a step is then device work only: gather the batch, forward, loss,
/// backward, Adam, and a device-side sum of the batch loss into a slot of a loss-history buffer. The
/// host reads that history back only every <see cref="TrainingOptions.ProgressEvery"/> steps and at
/// the end of an epoch, so a GPU is never made to wait for the host inside a step.
///
/// Every random draw is Philox keyed by the seed with the step in the counter, and the shuffle is a
/// function of (seed, epoch): the same seed on the same device gives the same numbers.
/// </summary>
public sealed class VaeTrainer : IDisposable
{
    // Evaluation binarises with step numbers that training steps (counted from 1) never reach.
    private const uint EvaluationStepBase = 0x8000_0000;

    private readonly Accelerator _acc;
    private readonly TrainingOptions _options;
    private readonly AdamOptimizer _optimizer;
    private readonly DeviceBuffer<byte> _trainData, _testData;
    private readonly DeviceBuffer<int> _order, _testOrder;
    private readonly DeviceBuffer<float> _x, _lossHistory, _evalHistory;
    private readonly int _features;

    public VaeTrainer(Accelerator accelerator, VaeConfig config, TrainingOptions options, IdxImages train, IdxImages test,
        ReadOnlySpan<float> initialParameters = default)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _options = options.Validate();
        config.Validate();
        _features = config.Input;
        CheckImages(train, "training", config);
        CheckImages(test, "test", config);
        if (train.Count == 0) throw new ArgumentException("the training set holds no images");
        _acc = accelerator;
        TrainCount = train.Count;
        TestCount = test.Count;
        StepsPerEpoch = (TrainCount + options.BatchSize - 1) / options.BatchSize;

        int capacity = Math.Max(options.BatchSize, Math.Min(options.EvalBatch, Math.Max(1, TestCount)));
        Network = initialParameters.IsEmpty
            ? VaeNetwork.Create(accelerator, config, capacity, options.Seed)
            : new VaeNetwork(accelerator, config, capacity, initialParameters);
        _optimizer = new AdamOptimizer(Network, options.Adam);
        _trainData = accelerator.Upload<byte>(train.Pixels.AsSpan(0, TrainCount * _features));
        _testData = accelerator.Upload<byte>(test.Pixels.AsSpan(0, TestCount * _features));
        _order = accelerator.Allocate<int>(TrainCount);
        _testOrder = accelerator.Upload<int>(Enumerable.Range(0, TestCount).ToArray());
        _x = accelerator.Allocate<float>(capacity * _features);
        _lossHistory = accelerator.Allocate<float>(StepsPerEpoch);
        _evalHistory = accelerator.Allocate<float>(Math.Max(1, (TestCount + options.EvalBatch - 1) / options.EvalBatch));
    }

    public VaeNetwork Network { get; }
    public Accelerator Accelerator => _acc;
    public TrainingOptions Options => _options;
    public int TrainCount { get; }
    public int TestCount { get; }
    public int StepsPerEpoch { get; }

    /// <summary>Optimiser steps taken so far (the step number of the last step).</summary>
    public long Step { get; private set; }

    public bool StepLimitReached => _options.MaxSteps is { } max && Step >= max;

    /// <summary>
    /// Trains one epoch (1-based), stopping early at the step limit or when cancellation is requested
    /// (after the step in progress), then evaluates the test loss unless cancelled.
    /// </summary>
    public EpochResult TrainEpoch(int epoch, CancellationToken cancellation = default, Action<TrainingProgress>? progress = null)
    {
        if (epoch < 1) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "epochs count from 1");
        int[] order = EpochShuffle.Permutation(TrainCount, _options.Seed, epoch);
        _acc.CopyFromHost<int>(order, _order.View);

        var clock = Stopwatch.StartNew();
        int batch = _options.BatchSize, steps = 0, samples = 0, readSteps = 0, readSamples = 0;
        double lossSum = 0;
        var history = new float[StepsPerEpoch];
        bool interrupted = false;
        while (steps < StepsPerEpoch && !StepLimitReached)
        {
            if (cancellation.IsCancellationRequested) { interrupted = true; break; }
            int start = steps * batch, rows = Math.Min(batch, TrainCount - start);
            TrainStep(_order.Slice(start, rows), rows, steps);
            steps++;
            samples += rows;
            if (steps % _options.ProgressEvery == 0 && steps < StepsPerEpoch && progress is not null)
            {
                double recent = ReadLosses(history, readSteps, steps);
                lossSum += recent;
                progress(new TrainingProgress(epoch, _options.Epochs, steps, StepsPerEpoch, Step, recent / (samples - readSamples),
                    samples / clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds));
                readSteps = steps;
                readSamples = samples;
            }
        }
        if (steps > 0) lossSum += ReadLosses(history, readSteps, steps); // waits for the device: the clock stops after
        double seconds = clock.Elapsed.TotalSeconds;
        if (cancellation.IsCancellationRequested) interrupted = true;

        double? testLoss = null;
        double evalSeconds = 0;
        if (!interrupted)
        {
            var evalClock = Stopwatch.StartNew();
            testLoss = Evaluate();
            evalSeconds = evalClock.Elapsed.TotalSeconds;
        }
        return new EpochResult(epoch, Step, steps, samples, samples > 0 ? lossSum / samples : double.NaN, testLoss,
            seconds, evalSeconds, samples > 0 ? samples / seconds : 0, steps < StepsPerEpoch, interrupted);
    }

    /// <summary>
    /// One optimiser step on the rows whose indices are on the device; the batch's summed loss goes to
    /// slot historySlot of the loss history (read back later, never here).
    /// </summary>
    public void TrainStep(DeviceView<int> indices, int rows, int historySlot)
    {
        Step++;
        uint counter = (uint)Step;
        var x = _x.Slice(0, rows * _features);
        _acc.GatherBatch(_trainData, _features, indices, rows, x, _options.Binarize, new RandomSource(_options.Seed, counter, RandomStream.Binarize));
        Network.ForwardLoss(x, rows, new RandomSource(_options.Seed, counter, RandomStream.Latent));
        _acc.ReduceSum(Network.PerSampleLoss(rows), _lossHistory.Slice(historySlot, 1));
        Network.Backward(x, rows);
        _optimizer.Step();
    }

    /// <summary>
    /// The test loss: mean per-image reconstruction + beta KL (the negative ELBO for beta = 1) with one z sample, in batches of EvalBatch. The eps
    /// of test batch b is drawn with step b of the Evaluation stream, so for given parameters the
    /// number is exactly reproducible and epochs are compared on the same noise.
    /// </summary>
    public double Evaluate()
    {
        if (TestCount == 0) return double.NaN;
        int batch = Math.Min(_options.EvalBatch, Network.Capacity);
        int batches = (TestCount + batch - 1) / batch;
        for (int b = 0; b < batches; b++)
        {
            int start = b * batch, rows = Math.Min(batch, TestCount - start);
            var x = _x.Slice(0, rows * _features);
            _acc.GatherBatch(_testData, _features, _testOrder.Slice(start, rows), rows, x, _options.Binarize,
                new RandomSource(_options.Seed, EvaluationStepBase | (uint)b, RandomStream.Binarize));
            Network.ForwardLoss(x, rows, new RandomSource(_options.Seed, (uint)b, RandomStream.Evaluation));
            _acc.ReduceSum(Network.PerSampleLoss(rows), _evalHistory.Slice(b, 1));
        }
        var sums = new float[batches];
        _acc.CopyToHost(_evalHistory.Slice(0, batches), sums);
        return sums.Sum(s => (double)s) / TestCount;
    }

    /// <summary>The current parameters on the host (waits for the device).</summary>
    public float[] DownloadParameters() => _acc.Download(Network.Parameters.View);

    private double ReadLosses(float[] history, int from, int to)
    {
        _acc.CopyToHost(_lossHistory.Slice(from, to - from), history.AsSpan(from, to - from));
        double sum = 0;
        for (int i = from; i < to; i++) sum += history[i];
        return sum;
    }

    private static void CheckImages(IdxImages images, string which, VaeConfig config)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rows * images.Columns != config.Input)
            throw new ArgumentException($"the {which} images are {images.Rows}x{images.Columns} ({images.Rows * images.Columns} pixels) " +
                $"but the model's input has {config.Input} features");
        if ((long)images.Count * config.Input > images.Pixels.Length)
            throw new ArgumentException($"the {which} set claims {images.Count} images but holds {images.Pixels.Length} bytes");
    }

    public void Dispose()
    {
        Network.Dispose();
        _optimizer.Dispose();
        _trainData.Dispose();
        _testData.Dispose();
        _order.Dispose();
        _testOrder.Dispose();
        _x.Dispose();
        _lossHistory.Dispose();
        _evalHistory.Dispose();
    }
}
