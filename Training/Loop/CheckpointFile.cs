using System.Globalization;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Model.IO;

namespace IlgpuVae.Training.Loop;

/// <summary>
/// checkpoint.safetensors: a model file (the same tensors and configuration, so `sample --model` and
/// PyTorch read it as one) plus the Adam moments as two flat tensors and the run's settings and
/// position in the metadata. Written atomically: a job killed while writing keeps the previous one.
/// </summary>
public static class CheckpointFile
{
    public const string FileName = "checkpoint.safetensors";
    public const string FirstMomentTensor = "optimizer.adam_m";
    public const string SecondMomentTensor = "optimizer.adam_v";
    private const string VersionKey = "checkpoint.version", Version = "1";

    public static void Save(string path, TrainingCheckpoint checkpoint)
    {
        var options = checkpoint.Options;
        var position = checkpoint.Position;
        var data = checkpoint.Data;
        var adam = options.Adam;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VersionKey] = Version,
            ["checkpoint.step"] = Text(position.Step),
            ["checkpoint.epoch"] = Text(position.Epoch),
            ["checkpoint.step_in_epoch"] = Text(position.StepInEpoch),
            ["checkpoint.epoch_loss_sum"] = position.EpochLossSum.ToString("R", CultureInfo.InvariantCulture),
            ["checkpoint.epoch_samples"] = Text(position.EpochSamples),
            ["checkpoint.device"] = checkpoint.Device,
            ["training.epochs"] = Text(options.Epochs),
            ["training.max_steps"] = options.MaxSteps is { } max ? Text(max) : "",
            ["training.batch_size"] = Text(options.BatchSize),
            ["training.lr"] = Text(adam.LearningRate),
            ["training.beta1"] = Text(adam.Beta1),
            ["training.beta2"] = Text(adam.Beta2),
            ["training.eps"] = Text(adam.Epsilon),
            ["training.weight_decay"] = Text(adam.WeightDecay),
            ["training.adamw"] = adam.Decoupled ? "true" : "false",
            ["training.binarize"] = options.Binarize ? "true" : "false",
            ["training.seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["training.eval_batch"] = Text(options.EvalBatch),
            ["training.corrupt"] = options.Corruption.ToString(),
            ["training.estimator"] = GradientEstimators.Name(options.Estimator),
            ["training.d_steps"] = Text(options.DiscriminatorSteps),
            ["training.kl_warmup"] = Text(options.KlWarmupSteps),
            ["training.free_bits"] = Text(options.FreeBits),
            ["training.gan_loss"] = GanLosses.Name(options.GanLoss),
            ["data.directory"] = data.Directory,
            ["data.train_images"] = Text(data.TrainImages),
            ["data.test_images"] = Text(data.TestImages),
            ["data.rows"] = Text(data.Rows),
            ["data.columns"] = Text(data.Columns),
            ["data.train_fingerprint"] = data.TrainFingerprint.ToString("x16", CultureInfo.InvariantCulture),
            // What a model file says of itself, so a checkpoint also serves as one.
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["steps"] = Text(position.Step),
        };
        int n = checkpoint.Parameters.Length;
        if (checkpoint.FirstMoment.Length != n || checkpoint.SecondMoment.Length != n)
            throw new ArgumentException($"the Adam moments have {checkpoint.FirstMoment.Length} and {checkpoint.SecondMoment.Length} floats; the parameters {n}");
        VaeModelFile.Save(path, checkpoint.Config, checkpoint.Parameters, metadata,
            [new SafeTensor(FirstMomentTensor, [n], checkpoint.FirstMoment), new SafeTensor(SecondMomentTensor, [n], checkpoint.SecondMoment)]);
    }

    /// <summary>
    /// Reads a checkpoint. A missing file is a FileNotFoundException; a file that is not a checkpoint of
    /// this program (a plain model file, a damaged header, a moment tensor of the wrong size, not a
    /// regular file) is an InvalidDataException naming the file and what is wrong. The header is
    /// checked before any tensor is read.
    /// </summary>
    public static TrainingCheckpoint Load(string path)
    {
        if (FileKinds.Of(path) == FileKind.Missing) throw new FileNotFoundException($"checkpoint '{path}' does not exist", path);
        return FromFile(path, SafeTensors.Read(path, header => CheckHeader(path, header)));
    }

    /// <summary>A checkpoint from a seekable stream; <paramref name="name"/> is what messages call it.</summary>
    public static TrainingCheckpoint Load(Stream stream, string name) =>
        FromFile(name, SafeTensors.Read(stream, name, header => CheckHeader(name, header)));

    /// <summary>A model file header with this program's checkpoint version and both Adam moments of the model's size.</summary>
    private static void CheckHeader(string path, SafeTensorHeader header)
    {
        var config = VaeModelFile.CheckHeader(path, header);
        if (!header.Metadata.TryGetValue(VersionKey, out string? version))
            throw new InvalidDataException($"'{path}' is a model file, not a training checkpoint (it has no '{VersionKey}')");
        if (version != Version)
            throw new InvalidDataException($"checkpoint '{path}' has version '{version}'; this program reads version {Version}");
        long parameters = ParameterLayout.FlatLength(config);
        foreach (string name in new[] { FirstMomentTensor, SecondMomentTensor })
        {
            var tensor = header.Tensors.FirstOrDefault(t => t.Name == name)
                ?? throw new InvalidDataException($"checkpoint '{path}' lacks tensor '{name}'");
            long floats = tensor.Shape.Aggregate(1L, (product, d) => product * d);
            if (tensor.Shape.Length != 1 || floats != parameters)
                throw new InvalidDataException($"checkpoint '{path}': tensor '{name}' holds {floats} floats in shape " +
                    $"[{string.Join(", ", tensor.Shape)}]; the model has {parameters}");
        }
    }

    private static TrainingCheckpoint FromFile(string path, SafeTensorFile file)
    {
        CheckHeader(path, new SafeTensorHeader([.. file.Tensors.Select(t => new SafeTensorInfo(t.Name, t.Shape))], file.Metadata));
        var model = VaeModelFile.FromFile(path, file);
        var meta = file.Metadata;

        string Get(string key) => meta.TryGetValue(key, out string? value)
            ? value : throw new InvalidDataException($"checkpoint '{path}' lacks metadata '{key}'");
        T Parse<T>(string key) where T : IParsable<T> => T.TryParse(Get(key), CultureInfo.InvariantCulture, out T? value)
            ? value : throw new InvalidDataException($"checkpoint '{path}': metadata '{key}' = '{Get(key)}' is not a {typeof(T).Name}");
        bool Bool(string key) => Get(key) switch
        {
            "true" => true,
            "false" => false,
            var other => throw new InvalidDataException($"checkpoint '{path}': metadata '{key}' = '{other}' is not true or false"),
        };
        float[] Moment(string name) => file.Tensors.First(t => t.Name == name).Data;

        string maxSteps = Get("training.max_steps");
        var options = new TrainingOptions
        {
            Epochs = Parse<int>("training.epochs"),
            MaxSteps = maxSteps.Length == 0 ? null : Parse<long>("training.max_steps"),
            BatchSize = Parse<int>("training.batch_size"),
            Adam = new AdamSettings(Parse<float>("training.lr"), Parse<float>("training.beta1"), Parse<float>("training.beta2"),
                Parse<float>("training.eps"), Parse<float>("training.weight_decay"), Bool("training.adamw")),
            Binarize = Bool("training.binarize"),
            Seed = Parse<ulong>("training.seed"),
            EvalBatch = Parse<int>("training.eval_batch"),
            // Checkpoints written before denoising and estimators trained the plain way.
            Corruption = meta.TryGetValue("training.corrupt", out string? corrupt) ? ParseCorruption(path, corrupt) : default,
            Estimator = meta.TryGetValue("training.estimator", out string? estimator)
                ? GradientEstimators.Parse(estimator) ?? throw new InvalidDataException($"checkpoint '{path}': metadata 'training.estimator' = '{estimator}' is not {GradientEstimators.Names}")
                : GradientEstimator.Reparameterisation,
            DiscriminatorSteps = meta.ContainsKey("training.d_steps") ? Parse<int>("training.d_steps") : 1,
            KlWarmupSteps = meta.ContainsKey("training.kl_warmup") ? Parse<long>("training.kl_warmup") : 0,
            FreeBits = meta.ContainsKey("training.free_bits") ? Parse<float>("training.free_bits") : 0f,
            GanLoss = meta.TryGetValue("training.gan_loss", out string? ganLoss)
                ? GanLosses.Parse(ganLoss) ?? throw new InvalidDataException($"checkpoint '{path}': metadata 'training.gan_loss' = '{ganLoss}' is not non-saturating or minimax")
                : GanLoss.NonSaturating,
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint '{path}' holds invalid settings: {e.Message}", e); }

        var position = new TrainingPosition(Parse<long>("checkpoint.step"), Parse<int>("checkpoint.epoch"), Parse<int>("checkpoint.step_in_epoch"),
            Parse<double>("checkpoint.epoch_loss_sum"), Parse<int>("checkpoint.epoch_samples"));
        if (position.Step < 0 || position.Epoch < 1 || position.StepInEpoch < 0 || position.EpochSamples < 0)
            throw new InvalidDataException($"checkpoint '{path}' holds an impossible position: step {position.Step}, epoch {position.Epoch}, step {position.StepInEpoch} in it");

        var data = new DataSignature(Get("data.directory"), Parse<int>("data.train_images"), Parse<int>("data.test_images"),
            Parse<int>("data.rows"), Parse<int>("data.columns"),
            ulong.TryParse(Get("data.train_fingerprint"), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong fingerprint)
                ? fingerprint : throw new InvalidDataException($"checkpoint '{path}': metadata 'data.train_fingerprint' is not hexadecimal"));
        return new TrainingCheckpoint(model.Config, options, position, model.Parameters, Moment(FirstMomentTensor), Moment(SecondMomentTensor),
            data, meta.TryGetValue("checkpoint.device", out string? device) ? device : "");
    }

    private static Corruption ParseCorruption(string path, string text)
    {
        try { return Corruption.Parse(text); }
        catch (FormatException e) { throw new InvalidDataException($"checkpoint '{path}': metadata 'training.corrupt': {e.Message}", e); }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
