using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.Distributed;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// Goodfellow et al.'s Algorithm 1 on the device: every step is a discriminator step on a batch of real
/// images (the epoch's shuffled order, as the VAEs take them) and as many generated ones; after every
/// k-th (<see cref="TrainingOptions.DiscriminatorSteps"/>) a generator step on a batch of new draws. Each
/// player has its own Adam over its range of the flat buffers (one moment buffer pair, two ranges), with
/// step counts that follow from the position (the discriminator's is the step, the generator's
/// step / k), so a checkpoint needs nothing the VAEs' does not hold and a resumed run is exact.
///
/// The draws are Philox keyed like every other: the discriminator step's generated batch from (seed,
/// step, GanNoise), the generator step's from elements 2^31 on of the same counter.
/// </summary>
public sealed class GanTrainer : ITrainer
{
    private const uint EvaluationStepBase = 0x8000_0000, GeneratorOffset = 0x8000_0000;

    private readonly Accelerator _acc;
    private readonly TrainingOptions _options;
    private readonly DeviceBuffer<byte> _trainData, _testData;
    private readonly DeviceBuffer<int> _order, _testOrder;
    private readonly DeviceBuffer<float> _x, _m, _v, _dHistory, _gHistory;
    private readonly int _features;
    private readonly float[] _dHost, _gHost;
    private TrainingPosition _position = TrainingPosition.Start;
    private int _flushedSteps;

    public GanTrainer(Accelerator accelerator, VaeConfig config, TrainingOptions options, IdxDataSet data)
        : this(accelerator, config, options, data, [], null)
    {
    }

    public GanTrainer(Accelerator accelerator, TrainingCheckpoint checkpoint, TrainingOptions options, IdxDataSet data)
        : this(accelerator, checkpoint.Config, options, data, checkpoint.Parameters, checkpoint)
    {
    }

    private GanTrainer(Accelerator accelerator, VaeConfig config, TrainingOptions options, IdxDataSet data, float[] initialParameters,
        TrainingCheckpoint? resume)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _options = options.Validate();
        config.Validate();
        _features = config.Input;
        VaeTrainer.CheckImages(data.Train, "training", config);
        VaeTrainer.CheckImages(data.Test, "test", config);
        if (data.Train.Count == 0) throw new ArgumentException("the training set holds no images");
        _acc = accelerator;
        TrainCount = data.Train.Count;
        TestCount = data.Test.Count;
        StepsPerEpoch = (TrainCount + options.BatchSize - 1) / options.BatchSize;
        int capacity = Math.Max(options.BatchSize, Math.Min(options.EvalBatch, Math.Max(1, TestCount)));
        Network = new GanNetwork(accelerator, config, capacity,
            initialParameters.Length > 0 ? initialParameters : ParameterInitializer.Create(new ParameterLayout(config), options.Seed));
        _trainData = accelerator.Upload<byte>(data.Train.Pixels.AsSpan(0, TrainCount * _features));
        _testData = accelerator.Upload<byte>(data.Test.Pixels.AsSpan(0, TestCount * _features));
        _order = accelerator.Allocate<int>(TrainCount);
        _testOrder = accelerator.Upload<int>(Enumerable.Range(0, TestCount).ToArray());
        _x = accelerator.Allocate<float>(capacity * _features);
        _m = accelerator.Allocate<float>(Network.Layout.Length);
        _v = accelerator.Allocate<float>(Network.Layout.Length);
        accelerator.Fill(_m, 0f);
        accelerator.Fill(_v, 0f);
        _dHistory = accelerator.Allocate<float>(StepsPerEpoch);
        _gHistory = accelerator.Allocate<float>(StepsPerEpoch);
        _dHost = new float[StepsPerEpoch];
        _gHost = new float[StepsPerEpoch];
        if (resume is not null)
        {
            var p = resume.Position;
            if (p.StepInEpoch > StepsPerEpoch)
                throw new ArgumentException($"the checkpoint stands at step {p.StepInEpoch} of epoch {p.Epoch}, but an epoch here has {StepsPerEpoch} steps");
            accelerator.CopyFromHost<float>(resume.FirstMoment, _m.View);
            accelerator.CopyFromHost<float>(resume.SecondMoment, _v.View);
            Step = p.Step;
            _position = p;
            _flushedSteps = p.StepInEpoch;
        }
    }

    public GanNetwork Network { get; }
    public ParameterLayout Layout => Network.Layout;

    /// <summary>A GAN trains in one process: its two players' steps are not split over ranks.</summary>
    public ICommunicator Communicator
    {
        get => SingleProcess.Instance;
        init
        {
            if (value.Size > 1) throw new NotSupportedException($"a GAN trains in one process; this run has {value.Size} ranks (train the VAEs across ranks)");
        }
    }

    public int TrainCount { get; }
    public int TestCount { get; }
    public int StepsPerEpoch { get; }
    public long Step { get; private set; }
    public bool StepLimitReached => _options.MaxSteps is { } max && Step >= max;
    public TrainingPosition Position => _position;

    public EpochResult TrainEpoch(int epoch, CancellationToken cancellation = default, Action<TrainingProgress>? progress = null, Action? afterStep = null)
    {
        if (epoch < 1) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "epochs count from 1");
        if (_position.Epoch != epoch) _position = new TrainingPosition(Step, epoch, 0, 0, 0);
        _flushedSteps = _position.StepInEpoch;
        int firstStep = _position.StepInEpoch, firstSamples = _position.EpochSamples;
        _acc.CopyFromHost<int>(EpochShuffle.Permutation(TrainCount, _options.Seed, epoch), _order.View);
        var clock = Stopwatch.StartNew();
        int batch = _options.BatchSize, steps = firstStep, samples = firstSamples;
        double reported = _position.EpochLossSum;
        int reportedSamples = samples;
        double generatorSum = 0;
        int generatorRows = 0;
        bool interrupted = false;
        while (steps < StepsPerEpoch && !StepLimitReached)
        {
            if (cancellation.IsCancellationRequested) { interrupted = true; break; }
            int start = steps * batch, rows = Math.Min(batch, TrainCount - start);
            if (TrainStep(_order.Slice(start, rows), rows, steps)) generatorRows += rows;
            steps++;
            samples += rows;
            _position = _position with { Step = Step, StepInEpoch = steps, EpochSamples = samples };
            afterStep?.Invoke();
            if (steps % _options.ProgressEvery == 0 && steps < StepsPerEpoch && progress is not null)
            {
                generatorSum += FlushLosses();
                progress(new TrainingProgress(epoch, _options.Epochs, steps, StepsPerEpoch, Step, (_position.EpochLossSum - reported) / (samples - reportedSamples),
                    (samples - firstSamples) / clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds, firstStep));
                reported = _position.EpochLossSum;
                reportedSamples = samples;
            }
        }
        generatorSum += FlushLosses();
        double seconds = clock.Elapsed.TotalSeconds;
        if (cancellation.IsCancellationRequested) interrupted = true;
        double lossSum = _position.EpochLossSum;
        if (steps == StepsPerEpoch && !interrupted) _position = new TrainingPosition(Step, epoch + 1, 0, 0, 0);

        double? testLoss = null;
        Dictionary<string, double>? extra = null;
        double evalSeconds = 0;
        if (!interrupted)
        {
            var evalClock = Stopwatch.StartNew();
            var (loss, real, fake) = EvaluateDiscriminator();
            testLoss = loss;
            evalSeconds = evalClock.Elapsed.TotalSeconds;
            extra = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["g_loss"] = generatorRows > 0 ? generatorSum / generatorRows : double.NaN,
                ["d_accuracy_real"] = real,
                ["d_accuracy_fake"] = fake,
            };
        }
        int trained = samples - firstSamples;
        return new EpochResult(epoch, Step, steps, samples, samples > 0 ? lossSum / samples : double.NaN, testLoss,
            seconds, evalSeconds, trained > 0 ? trained / seconds : 0, steps < StepsPerEpoch, interrupted, firstStep) { Extra = extra };
    }

    /// <summary>
    /// A discriminator step on the real rows whose indices are on the device, and a generator step after
    /// every k-th; the losses go to slot historySlot of the two histories. True when the generator stepped.
    /// </summary>
    public bool TrainStep(DeviceView<int> indices, int rows, int historySlot)
    {
        Step++;
        uint counter = (uint)Step;
        var x = _x.Slice(0, rows * _features);
        _acc.GatherBatch(_trainData, _features, indices, rows, x, _options.Binarize, new RandomSource(_options.Seed, counter, RandomStream.Binarize));
        Network.DiscriminatorStep(x, rows, new RandomSource(_options.Seed, counter, RandomStream.GanNoise));
        _acc.ReduceSum(Network.PerSampleLoss(2 * rows), _dHistory.Slice(historySlot, 1));
        Adam(Network.DiscriminatorRange, (int)Step);
        bool generator = Step % _options.DiscriminatorSteps == 0;
        if (generator)
        {
            Network.GeneratorStep(rows, new RandomSource(_options.Seed, counter, RandomStream.GanNoise, GeneratorOffset), _options.GanLoss);
            _acc.ReduceSum(Network.PerSampleLoss(rows), _gHistory.Slice(historySlot, 1));
            Adam(Network.GeneratorRange, (int)(Step / _options.DiscriminatorSteps));
        }
        else
        {
            _acc.Fill(_gHistory.Slice(historySlot, 1), 0f);
        }
        return generator;
    }

    private void Adam((int Offset, int Length) range, int step) =>
        _acc.Adam(_options.Adam, step, Network.Parameters.Slice(range.Offset, range.Length), Network.Gradients.Slice(range.Offset, range.Length),
            _m.Slice(range.Offset, range.Length), _v.Slice(range.Offset, range.Length));

    /// <summary>Adds the discriminator's losses read back to the position; returns the generator's loss sum of those steps.</summary>
    private double FlushLosses()
    {
        int to = _position.StepInEpoch;
        if (to <= _flushedSteps) return 0;
        int count = to - _flushedSteps;
        _acc.CopyToHost(_dHistory.Slice(_flushedSteps, count), _dHost.AsSpan(_flushedSteps, count));
        _acc.CopyToHost(_gHistory.Slice(_flushedSteps, count), _gHost.AsSpan(_flushedSteps, count));
        double d = 0, g = 0;
        for (int i = _flushedSteps; i < to; i++)
        {
            if (!float.IsFinite(_dHost[i]) || !float.IsFinite(_gHost[i]))
            {
                long step = _position.Step - count + 1 + (i - _flushedSteps);
                throw new TrainingDivergedException(step, $"the losses of step {step} are {_dHost[i]} (discriminator) and {_gHost[i]} (generator)");
            }
            d += _dHost[i];
            g += _gHost[i];
        }
        _position = _position with { EpochLossSum = _position.EpochLossSum + d };
        _flushedSteps = to;
        return g;
    }

    /// <summary>The discriminator's test loss (per pair of a real test image and a generated one) and its accuracy on each.</summary>
    public double Evaluate() => EvaluateDiscriminator().Loss;

    private (double Loss, double RealAccuracy, double FakeAccuracy) EvaluateDiscriminator()
    {
        if (TestCount == 0) return (double.NaN, double.NaN, double.NaN);
        int batch = Math.Min(_options.EvalBatch, Network.Capacity);
        double loss = 0;
        int realRight = 0, fakeRight = 0;
        var logits = new float[2 * batch];
        var losses = new float[2 * batch];
        for (int b = 0, start = 0; start < TestCount; b++, start += batch)
        {
            int rows = Math.Min(batch, TestCount - start);
            var x = _x.Slice(0, rows * _features);
            _acc.GatherBatch(_testData, _features, _testOrder.Slice(start, rows), rows, x, _options.Binarize,
                new RandomSource(_options.Seed, EvaluationStepBase | (uint)b, RandomStream.Binarize));
            // The same losses as a discriminator step, without its update: the gradients are not used.
            Network.DiscriminatorStep(x, rows, new RandomSource(_options.Seed, EvaluationStepBase | (uint)b, RandomStream.GanNoise));
            _acc.CopyToHost(Network.Logits(2 * rows), logits.AsSpan(0, 2 * rows));
            _acc.CopyToHost(Network.PerSampleLoss(2 * rows), losses.AsSpan(0, 2 * rows));
            for (int i = 0; i < rows; i++)
            {
                if (logits[i] > 0) realRight++;
                if (logits[rows + i] < 0) fakeRight++;
            }
            for (int i = 0; i < 2 * rows; i++) loss += losses[i];
        }
        return (loss / TestCount, (double)realRight / TestCount, (double)fakeRight / TestCount);
    }

    /// <summary>count generated images G(z) with z from the Prior stream (chunk c with step c), as the VAEs' samples.</summary>
    public float[] SampleImages(ulong seed, int count) => Sample(Network, seed, count);

    /// <summary>count images a GAN network generates for seed: chunk c of its capacity draws step c of the Prior stream.</summary>
    public static float[] Sample(GanNetwork network, ulong seed, int count)
    {
        var result = new float[(long)count * network.Config.Input];
        for (int start = 0, chunk = 0; start < count; start += network.Capacity, chunk++)
        {
            int rows = Math.Min(network.Capacity, count - start);
            network.Accelerator.CopyToHost(network.Generate(rows, new RandomSource(seed, (uint)chunk, RandomStream.Prior)),
                result.AsSpan(start * network.Config.Input, rows * network.Config.Input));
        }
        return result;
    }

    public TrainingCheckpoint CaptureCheckpoint(DataSignature data)
    {
        FlushLosses();
        float[] parameters = DownloadParameters();
        float[] first = _acc.Download(_m.View), second = _acc.Download(_v.View);
        if ((NonFiniteValues.Find(CheckpointFile.FirstMomentTensor, first) ?? NonFiniteValues.Find(CheckpointFile.SecondMomentTensor, second)) is { } bad)
            throw new TrainingDivergedException(Step, $"after step {Step} the optimiser state is not finite ({bad})");
        return new TrainingCheckpoint(Network.Config, _options, _position, parameters, first, second, data, _acc.Specifier);
    }

    public float[] DownloadParameters()
    {
        float[] parameters = _acc.Download(Network.Parameters.View);
        if (NonFiniteValues.Find(Network.Layout, parameters) is { } bad)
            throw new TrainingDivergedException(Step, $"after step {Step} the parameters are not finite ({bad})");
        return parameters;
    }

    public void Dispose()
    {
        Network.Dispose();
        _trainData.Dispose();
        _testData.Dispose();
        _order.Dispose();
        _testOrder.Dispose();
        _x.Dispose();
        _m.Dispose();
        _v.Dispose();
        _dHistory.Dispose();
        _gHistory.Dispose();
    }
}
