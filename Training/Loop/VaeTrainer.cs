using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Distributed;

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
public sealed class VaeTrainer : ITrainer
{
    // Evaluation binarises with step numbers that training steps (counted from 1) never reach.
    private const uint EvaluationStepBase = 0x8000_0000;

    private readonly Accelerator _acc;
    private readonly TrainingOptions _options;
    private readonly AdamOptimizer _optimizer;
    private readonly DeviceBuffer<byte> _trainData, _testData;
    // A conditional model's labels, on the device like the images (null for the other models).
    private readonly DeviceBuffer<byte>? _trainLabels, _testLabels;
    private readonly DeviceBuffer<int> _order, _testOrder;
    private readonly DeviceBuffer<float> _x, _lossHistory, _evalHistory, _klHistory;
    // The corrupted copy of a batch a denoising VAE's encoder sees, and a batch's one-hot labels.
    private readonly DeviceBuffer<float>? _corrupted, _oneHot;
    private readonly int _features;
    private readonly float[] _history;
    // Where the next step falls, and the running sums of the epoch in progress (for checkpoints).
    private TrainingPosition _position = TrainingPosition.Start;
    // Steps of the epoch in progress whose losses are in _position.EpochLossSum (the rest are on the device).
    private int _flushedSteps;

    public VaeTrainer(Accelerator accelerator, VaeConfig config, TrainingOptions options, IdxImages train, IdxImages test,
        ReadOnlySpan<float> initialParameters = default)
        : this(accelerator, config, options, new LabelledImages(train, null), new LabelledImages(test, null), initialParameters, resume: null)
    {
    }

    /// <summary>A trainer on a whole data set, labels included (a conditional model needs them).</summary>
    public VaeTrainer(Accelerator accelerator, VaeConfig config, TrainingOptions options, IdxDataSet data, ReadOnlySpan<float> initialParameters = default)
        : this(accelerator, config, options, new LabelledImages(data.Train, data.TrainLabels), new LabelledImages(data.Test, data.TestLabels),
            initialParameters, resume: null)
    {
    }

    /// <summary>A trainer that continues from a checkpoint, on a whole data set (labels included).</summary>
    public VaeTrainer(Accelerator accelerator, TrainingCheckpoint checkpoint, TrainingOptions options, IdxDataSet data)
        : this(accelerator, checkpoint.Config, options, new LabelledImages(data.Train, data.TrainLabels),
            new LabelledImages(data.Test, data.TestLabels), checkpoint.Parameters, checkpoint)
    {
    }

    /// <summary>
    /// A trainer that continues from a checkpoint: its parameters, Adam moments and step count, and its
    /// position (the next TrainEpoch of the checkpoint's epoch starts at the step after the last one taken).
    /// </summary>
    public VaeTrainer(Accelerator accelerator, TrainingCheckpoint checkpoint, TrainingOptions options, IdxImages train, IdxImages test)
        : this(accelerator, checkpoint.Config, options, new LabelledImages(train, null), new LabelledImages(test, null), checkpoint.Parameters, checkpoint)
    {
    }

    private readonly record struct LabelledImages(IdxImages Images, byte[]? Labels);

    private VaeTrainer(Accelerator accelerator, VaeConfig config, TrainingOptions options, LabelledImages trainSet, LabelledImages testSet,
        ReadOnlySpan<float> initialParameters, TrainingCheckpoint? resume)
    {
        var (train, test) = (trainSet.Images, testSet.Images);
        ArgumentNullException.ThrowIfNull(accelerator);
        _options = options.Validate();
        config.Validate();
        _features = config.Input;
        CheckImages(train, "training", config);
        CheckImages(test, "test", config);
        if (config.Classes > 0)
        {
            CheckLabels(trainSet, "training", config);
            CheckLabels(testSet, "test", config);
        }
        if (train.Count == 0) throw new ArgumentException("the training set holds no images");
        _acc = accelerator;
        TrainCount = train.Count;
        TestCount = test.Count;
        StepsPerEpoch = (TrainCount + options.BatchSize - 1) / options.BatchSize;

        int capacity = Math.Max(options.BatchSize, Math.Min(options.EvalBatch, Math.Max(1, TestCount)));
        Network = initialParameters.IsEmpty
            ? ModelKinds.Create(accelerator, config, capacity, options.Seed)
            : ModelKinds.Create(accelerator, config, capacity, initialParameters.ToArray());
        _optimizer = new AdamOptimizer(Network, options.Adam);
        _trainData = accelerator.Upload<byte>(train.Pixels.AsSpan(0, TrainCount * _features));
        _testData = accelerator.Upload<byte>(test.Pixels.AsSpan(0, TestCount * _features));
        _order = accelerator.Allocate<int>(TrainCount);
        _testOrder = accelerator.Upload<int>(Enumerable.Range(0, TestCount).ToArray());
        _x = accelerator.Allocate<float>(capacity * _features);
        if (options.Corruption.Kind != CorruptionKind.None) _corrupted = accelerator.Allocate<float>(capacity * _features);
        if (config.Classes > 0)
        {
            _trainLabels = accelerator.Upload<byte>(trainSet.Labels.AsSpan(0, TrainCount));
            _testLabels = accelerator.Upload<byte>(testSet.Labels.AsSpan(0, TestCount));
            _oneHot = accelerator.Allocate<float>(capacity * config.Classes);
        }
        _lossHistory = accelerator.Allocate<float>(StepsPerEpoch);
        _evalHistory = accelerator.Allocate<float>(Math.Max(1, (TestCount + options.EvalBatch - 1) / options.EvalBatch));
        // Per evaluation batch, the summed KL of each term (terms x batches).
        _klHistory = accelerator.Allocate<float>(Network.KlTerms(1).Count * _evalHistory.Length);
        _history = new float[StepsPerEpoch];
        if (resume is not null)
        {
            var p = resume.Position;
            if (p.StepInEpoch > StepsPerEpoch)
                throw new ArgumentException($"the checkpoint stands at step {p.StepInEpoch} of epoch {p.Epoch}, but an epoch here has {StepsPerEpoch} steps");
            if (p.Step > int.MaxValue) throw new ArgumentException($"the checkpoint's step {p.Step} exceeds what Adam's step counter holds");
            _optimizer.Restore(resume.FirstMoment, resume.SecondMoment, (int)p.Step);
            Step = p.Step;
            _position = p;
            _flushedSteps = p.StepInEpoch; // the sum of those steps came with the checkpoint
        }
    }

    public IVaeModel Network { get; }

    public ParameterLayout Layout => Network.Layout;

    /// <summary>
    /// The ranks that train this model together (data parallelism): each takes its share of every
    /// batch's rows, with the noise those rows draw in a single-process run, and the gradients of the
    /// summed loss are summed over the ranks before the optimiser step, so every rank holds the same
    /// parameters. A single process (the default) adds nothing to a step.
    /// </summary>
    public ICommunicator Communicator { get; init; } = SingleProcess.Instance;

    // Parallel runs only: the gradients on their way through the all-reduce, with one more slot that
    // carries the stop requests of the ranks, so that every rank stops after the same step.
    private HostStaging<float>? _reduced;
    private bool _stopAgreed;
    private CancellationToken _cancellation;
    public Accelerator Accelerator => _acc;
    public TrainingOptions Options => _options;
    public int TrainCount { get; }
    public int TestCount { get; }
    public int StepsPerEpoch { get; }

    /// <summary>Optimiser steps taken so far (the step number of the last step).</summary>
    public long Step { get; private set; }

    public bool StepLimitReached => _options.MaxSteps is { } max && Step >= max;

    /// <summary>Where the next step falls: its epoch, its index in the epoch, and the epoch's loss so far.</summary>
    public TrainingPosition Position => _position;

    /// <summary>
    /// Trains epoch (1-based) from the current position when it is that epoch's (a resumed run), else
    /// from its first step, stopping early at the step limit or when cancellation is requested (after
    /// the step in progress), then evaluates the test loss unless cancelled. afterStep runs after every
    /// step (a checkpoint policy calls <see cref="CaptureCheckpoint"/> from it).
    /// </summary>
    public EpochResult TrainEpoch(int epoch, CancellationToken cancellation = default, Action<TrainingProgress>? progress = null,
        Action? afterStep = null)
    {
        if (epoch < 1) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "epochs count from 1");
        if (_position.Epoch != epoch) _position = new TrainingPosition(Step, epoch, 0, 0, 0);
        _flushedSteps = _position.StepInEpoch;
        int firstStep = _position.StepInEpoch, firstSamples = _position.EpochSamples;
        int[] order = EpochShuffle.Permutation(TrainCount, _options.Seed, epoch);
        _acc.CopyFromHost<int>(order, _order.View);

        var clock = Stopwatch.StartNew();
        int batch = _options.BatchSize, steps = firstStep, samples = firstSamples;
        double reportedLoss = _position.EpochLossSum;
        int reportedSamples = samples;
        bool interrupted = false;
        _cancellation = cancellation;
        _stopAgreed = false;
        while (steps < StepsPerEpoch && !StepLimitReached)
        {
            if (StopRequested(cancellation)) { interrupted = true; break; }
            int start = steps * batch, rows = Math.Min(batch, TrainCount - start);
            TrainStep(_order.Slice(start, rows), rows, steps);
            steps++;
            samples += rows;
            _position = _position with { Step = Step, StepInEpoch = steps, EpochSamples = samples };
            afterStep?.Invoke();
            if (steps % _options.ProgressEvery == 0 && steps < StepsPerEpoch && progress is not null)
            {
                FlushLosses();
                double recent = _position.EpochLossSum - reportedLoss;
                progress(new TrainingProgress(epoch, _options.Epochs, steps, StepsPerEpoch, Step, recent / (samples - reportedSamples),
                    (samples - firstSamples) / clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds, firstStep));
                reportedLoss = _position.EpochLossSum;
                reportedSamples = samples;
            }
        }
        FlushLosses(); // waits for the device: the clock stops after
        double seconds = clock.Elapsed.TotalSeconds;
        if (StopRequested(cancellation)) interrupted = true;
        double lossSum = _position.EpochLossSum;
        // An epoch stopped after its last step but before or during its evaluation stays current, so
        // that a resumed run evaluates it instead of losing its test loss.
        var beforeEvaluation = _position;
        if (steps == StepsPerEpoch && !interrupted) _position = new TrainingPosition(Step, epoch + 1, 0, 0, 0);

        double? testLoss = null;
        double evalSeconds = 0;
        IReadOnlyDictionary<string, double>? testKl = null;
        if (!interrupted)
        {
            var evalClock = Stopwatch.StartNew();
            // Ranks evaluate their shares together: a stop waits for the whole evaluation there.
            (testLoss, testKl) = EvaluateWithKl(Communicator.Size == 1 ? cancellation : CancellationToken.None);
            evalSeconds = evalClock.Elapsed.TotalSeconds;
            if (testLoss is null)
            {
                interrupted = true;
                _position = beforeEvaluation;
            }
        }
        // The training losses were finite, so the update of the last step made the parameters non-finite.
        if (testLoss is { } test && TestCount > 0 && !double.IsFinite(test))
            throw new TrainingDivergedException(Step, $"the test loss after step {Step} is {test}");
        int trained = samples - firstSamples;
        return new EpochResult(epoch, Step, steps, samples, samples > 0 ? lossSum / samples : double.NaN, testLoss,
            seconds, evalSeconds, trained > 0 ? trained / seconds : 0, steps < StepsPerEpoch, interrupted, firstStep) { TestKl = testKl };
    }

    /// <summary>
    /// The whole training state at the current position (waits for the device): what
    /// <see cref="CheckpointFile"/> saves and the resuming constructor takes.
    /// </summary>
    public TrainingCheckpoint CaptureCheckpoint(DataSignature data)
    {
        FlushLosses();
        float[] parameters = DownloadParameters();
        float[] first = _acc.Download(_optimizer.FirstMoment.View), second = _acc.Download(_optimizer.SecondMoment.View);
        // The loss of the last step was computed before its update: the parameters it produced are checked here.
        if ((NonFiniteValues.Find(CheckpointFile.FirstMomentTensor, first) ?? NonFiniteValues.Find(CheckpointFile.SecondMomentTensor, second))
            is { } bad)
            throw new TrainingDivergedException(Step, $"after step {Step} the optimiser state is not finite ({bad})");
        return new TrainingCheckpoint(Network.Config, _options, _position, parameters, first, second, data, _acc.Specifier);
    }

    /// <summary>
    /// Adds the losses of the epoch's steps not yet read back to the position's running sum. The read-back
    /// is also where divergence shows: a NaN or infinite batch loss stops the run (the sums are read
    /// anyway, so this costs the device nothing).
    /// </summary>
    private void FlushLosses()
    {
        int to = _position.StepInEpoch;
        if (to <= _flushedSteps) return;
        _acc.CopyToHost(_lossHistory.Slice(_flushedSteps, to - _flushedSteps), _history.AsSpan(_flushedSteps, to - _flushedSteps));
        // Each rank holds the losses of its rows: the batch losses are their sums (every rank reads back at the same steps).
        Communicator.AllReduceSum(_history.AsSpan(_flushedSteps, to - _flushedSteps));
        int bad = NonFiniteValues.IndexOf(_history.AsSpan(_flushedSteps, to - _flushedSteps));
        if (bad >= 0)
        {
            long step = _position.Step - (to - _flushedSteps) + 1 + bad;
            throw new TrainingDivergedException(step, $"the loss of step {step} is {_history[_flushedSteps + bad]}");
        }
        double sum = 0;
        for (int i = _flushedSteps; i < to; i++) sum += _history[i];
        _position = _position with { EpochLossSum = _position.EpochLossSum + sum };
        _flushedSteps = to;
    }

    /// <summary>
    /// One optimiser step on the rows whose indices are on the device; the batch's summed loss goes to
    /// slot historySlot of the loss history (read back later, never here).
    /// </summary>
    public void TrainStep(DeviceView<int> indices, int rows, int historySlot)
    {
        Step++;
        uint counter = (uint)Step;
        // This rank's rows of the batch; the noise of row r is the noise row r draws in one process.
        int size = Communicator.Size, rank = Communicator.Rank;
        int first = (int)((long)rows * rank / size), mine = (int)((long)rows * (rank + 1) / size) - first;
        // The warm-up's factor follows from the step alone, so a resumed run weighs the KL as the first did.
        Network.KlScale = _options.KlWarmupSteps > 0 ? (float)Math.Min(1.0, (double)Step / _options.KlWarmupSteps) : 1f;
        // The floor is a batch mean: each rank would see only its rows, so a parallel run does not take it.
        if (_options.FreeBits > 0 && size > 1) throw new NotSupportedException("free bits average the KL over a batch; a run over several ranks cannot use them yet");
        Network.FreeBits = _options.FreeBits;
        if (mine > 0)
        {
            var batch = Batch(_trainData, _trainLabels, indices.Slice(first, mine), mine, counter, counter, (uint)first);
            Network.ForwardLoss(batch, mine, new RandomSource(_options.Seed, counter, RandomStream.Latent, (uint)(first * Network.Config.Latent)));
            _acc.ReduceSum(Network.PerSampleLoss(mine), _lossHistory.Slice(historySlot, 1));
            Network.Backward(batch, mine, _options.Estimator);
        }
        else
        {
            // More ranks than rows (a last batch of a few images): this rank adds nothing.
            _acc.Fill(_lossHistory.Slice(historySlot, 1), 0f);
            _acc.Fill(Network.Gradients, 0f);
        }
        if (size > 1) SumGradientsOverRanks();
        _optimizer.Step();
    }

    /// <summary>
    /// A batch on the device from its rows' indices: the images (binarised with step binarizeStep when the
    /// run binarises), the corrupted copy the encoder of a denoising VAE sees (noise of step noiseStep),
    /// and the one-hot labels of a conditional model. firstRow is the batch row of the first index, so a
    /// rank's share draws the noise those rows draw in one process.
    /// </summary>
    private VaeBatch Batch(DeviceBuffer<byte> data, DeviceBuffer<byte>? labels, DeviceView<int> indices, int rows,
        uint binarizeStep, uint noiseStep, uint firstRow)
    {
        var x = _x.Slice(0, rows * _features);
        _acc.GatherBatch(data, _features, indices, rows, x, _options.Binarize,
            new RandomSource(_options.Seed, binarizeStep, RandomStream.Binarize, firstRow * (uint)_features));
        var batch = new VaeBatch(x);
        if (_corrupted is not null)
        {
            var corrupted = _corrupted.Slice(0, rows * _features);
            var config = Network.Config;
            _acc.Corrupt(_options.Corruption, x, rows, config.ImageHeight, config.ImageWidth,
                new RandomSource(_options.Seed, noiseStep, RandomStream.Corruption, firstRow * (uint)_features), corrupted);
            batch = batch with { Input = corrupted };
        }
        if (labels is not null)
        {
            int classes = Network.Config.Classes;
            var oneHot = _oneHot!.Slice(0, rows * classes);
            _acc.GatherOneHot(labels, indices, rows, classes, oneHot, classes, 0);
            batch = batch with { Condition = oneHot };
        }
        return batch;
    }

    /// <summary>
    /// The one all-reduce of a parallel step: the flat gradient buffer through the host (in place, float32),
    /// with this rank's stop request in the last slot.
    /// </summary>
    private void SumGradientsOverRanks()
    {
        var gradients = Network.Gradients;
        // Page-locked where the device allows it (a GPU copies it by DMA), allocated once.
        _reduced ??= _acc.AllocateHostStaging<float>(gradients.Length + 1);
        var reduced = _reduced.Span;
        _acc.CopyToHost(gradients, reduced[..gradients.Length]);
        reduced[^1] = _cancellation.IsCancellationRequested ? 1f : 0f;
        Communicator.AllReduceSum(reduced);
        _stopAgreed |= reduced[^1] > 0f;
        _acc.CopyFromHost<float>(reduced[..gradients.Length], gradients);
    }

    /// <summary>Whether to stop before the next step: the token in one process, the ranks' agreement in a parallel run.</summary>
    private bool StopRequested(CancellationToken cancellation) => Communicator.Size == 1 ? cancellation.IsCancellationRequested : _stopAgreed;

    /// <summary>
    /// The test loss: mean per-image reconstruction + beta KL (the negative ELBO for beta = 1) with one z sample, in batches of EvalBatch. The eps
    /// of test batch b is drawn with step b of the Evaluation stream, so for given parameters the
    /// number is exactly reproducible and epochs are compared on the same noise.
    /// </summary>
    public double Evaluate() => Evaluate(CancellationToken.None)!.Value;

    /// <summary>
    /// The test loss, or null when cancellation is requested before it is done: the flag is checked
    /// between evaluation batches, so a stop asked during a long evaluation waits for one batch only.
    /// </summary>
    public double? Evaluate(CancellationToken cancellation) => EvaluateWithKl(cancellation).Loss;

    /// <summary>The test loss and the mean KL of each latent layer (unweighted), or nulls when cancelled.</summary>
    public (double? Loss, IReadOnlyDictionary<string, double>? Kl) EvaluateWithKl(CancellationToken cancellation)
    {
        if (TestCount == 0) return (double.NaN, null);
        int batch = Math.Min(_options.EvalBatch, Network.Capacity);
        int batches = (TestCount + batch - 1) / batch;
        var sums = new float[batches];
        int size = Communicator.Size, rank = Communicator.Rank;
        int firstBatch = (int)((long)batches * rank / size), endBatch = (int)((long)batches * (rank + 1) / size);
        Network.KlScale = 1f; // the test loss is the bound with the full beta, warm-up or not
        Network.FreeBits = 0f; // and without the free-bits floor
        for (int b = firstBatch; b < endBatch; b++)
        {
            if (cancellation.IsCancellationRequested) return (null, null);
            int start = b * batch, rows = Math.Min(batch, TestCount - start);
            var x = Batch(_testData, _testLabels, _testOrder.Slice(start, rows), rows, EvaluationStepBase | (uint)b, EvaluationStepBase | (uint)b, 0);
            Network.ForwardLoss(x, rows, new RandomSource(_options.Seed, (uint)b, RandomStream.Evaluation));
            _acc.ReduceSum(Network.PerSampleLoss(rows), _evalHistory.Slice(b, 1));
            var terms = Network.KlTerms(rows);
            for (int t = 0; t < terms.Count; t++) _acc.ReduceSum(terms[t].PerSample, _klHistory.Slice(t * batches + b, 1));
        }
        // Each rank evaluated a run of the batches; the others' slots stay 0 until the sum over ranks.
        if (endBatch > firstBatch) _acc.CopyToHost(_evalHistory.Slice(firstBatch, endBatch - firstBatch), sums.AsSpan(firstBatch, endBatch - firstBatch));
        Communicator.AllReduceSum(sums);
        var names = Network.KlTerms(1).Select(t => t.Name).ToArray();
        var klSums = new float[names.Length * batches];
        for (int t = 0; t < names.Length && endBatch > firstBatch; t++)
            _acc.CopyToHost(_klHistory.Slice(t * batches + firstBatch, endBatch - firstBatch), klSums.AsSpan(t * batches + firstBatch, endBatch - firstBatch));
        Communicator.AllReduceSum(klSums);
        var kl = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int t = 0; t < names.Length; t++) kl[names[t]] = klSums.AsSpan(t * batches, batches).ToArray().Sum(s => (double)s) / TestCount;
        return (sums.Sum(s => (double)s) / TestCount, kl);
    }

    /// <summary>
    /// The current parameters on the host (waits for the device). Throws a <see cref="TrainingDivergedException"/>
    /// when one is NaN or infinite: every caller saves them, and no file may hold a diverged model.
    /// </summary>
    public float[] DownloadParameters()
    {
        float[] parameters = _acc.Download(Network.Parameters.View);
        if (NonFiniteValues.Find(Network.Layout, parameters) is { } bad)
            throw new TrainingDivergedException(Step, $"after step {Step} the parameters are not finite ({bad})");
        return parameters;
    }

    internal static void CheckImages(IdxImages images, string which, VaeConfig config)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rows * images.Columns != config.Input)
            throw new ArgumentException($"the {which} images are {images.Rows}x{images.Columns} ({images.Rows * images.Columns} pixels) " +
                $"but the model's input has {config.Input} features");
        if ((long)images.Count * config.Input > images.Pixels.Length)
            throw new ArgumentException($"the {which} set claims {images.Count} images but holds {images.Pixels.Length} bytes");
    }

    private static void CheckLabels(LabelledImages set, string which, VaeConfig config)
    {
        if (set.Labels is null)
            throw new ArgumentException($"a conditional model trains on labelled images, and the {which} images came without labels");
        if (set.Labels.Length < set.Images.Count)
            throw new ArgumentException($"the {which} set has {set.Labels.Length} labels for {set.Images.Count} images");
        for (int i = 0; i < set.Images.Count; i++)
            if (set.Labels[i] >= config.Classes)
                throw new ArgumentException($"{which} label {i} is {set.Labels[i]}; the model has {config.Classes} classes (0..{config.Classes - 1})");
    }

    public void Dispose()
    {
        Network.Dispose();
        _trainLabels?.Dispose();
        _testLabels?.Dispose();
        _corrupted?.Dispose();
        _oneHot?.Dispose();
        _optimizer.Dispose();
        _trainData.Dispose();
        _testData.Dispose();
        _order.Dispose();
        _testOrder.Dispose();
        _x.Dispose();
        _lossHistory.Dispose();
        _evalHistory.Dispose();
        _klHistory.Dispose();
        _reduced?.Dispose();
    }
}
