using System.Globalization;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Model;
using IlgpuVae.Training.Data;
using IlgpuVae.Training.IO;
using IlgpuVae.Training.Distributed;
using IlgpuVae.Training.Loop;

namespace IlgpuVae.Host.Commands;

/// <summary>`ilgpu-vae train`: trains a VAE and writes metrics, the model, samples and reconstructions to a run directory.</summary>
public sealed class TrainCommand : Command
{
    private static readonly Dictionary<string, Likelihood> Likelihoods = new()
    {
        ["bernoulli"] = Likelihood.Bernoulli, ["gaussian"] = Likelihood.Gaussian,
    };

    private static readonly Dictionary<string, Activation> Activations = new()
    {
        ["relu"] = Activation.Relu, ["leaky-relu"] = Activation.LeakyRelu, ["tanh"] = Activation.Tanh, ["sigmoid"] = Activation.Sigmoid,
    };

    public override string Name => "train";
    public override string Summary => "train a VAE; writes metrics.jsonl, model.safetensors, samples.png, reconstructions.png, loss.png";

    public override string Description =>
        "Trains a VAE (MLP encoder and decoder, Adam, the PyTorch examples model by default) on the IDX\n" +
        "data set of --data, evaluating the test loss after every epoch: the mean per-image\n" +
        "reconstruction + beta * KL with one z sample (the negative ELBO for beta 1). The run directory receives:\n" +
        "  metrics.jsonl        one JSON object a line: a \"run\" line, one \"epoch\" line per epoch\n" +
        "                       (epoch, step, train_loss, test_loss, epoch_seconds, samples_per_s, ...), an \"end\" line\n" +
        "  model.safetensors    the parameters, with the model configuration in the metadata\n" +
        "  samples.png          8x8 decoder means for z drawn from the prior N(0, I)\n" +
        "  reconstructions.png  test images (left) beside their reconstructions (right), 8 rows of 8 pairs\n" +
        "  loss.png             the train and test loss of every epoch as a line chart, drawn again after each\n" +
        "                       epoch from metrics.jsonl (a GAN: the discriminator's and the generator's losses)\n" +
        "  checkpoint.safetensors\n" +
        "                       the model, Adam's moments, the settings and the position, saved after\n" +
        "                       every epoch and when stopped; --run-dir DIR --resume continues from it\n" +
        "Same seed and device: the same numbers, also across a stop and a resume. Ctrl-C, SIGTERM, SIGHUP\n" +
        "or SIGUSR1 stops after the current step (or evaluation batch) and still writes every output (exit\n" +
        "code 130). A batch job that may be\n" +
        "cut off can run the same command line each time: train --run-dir DIR --resume [options] starts\n" +
        "the run when DIR holds no checkpoint and continues it when it does. A terminal shows a progress\n" +
        "bar; otherwise plain log lines.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("--epochs", "N", "passes over the training set", "10"),
        new("--max-steps", "N", "stop after N optimiser steps in total (outputs are still written)"),
        new("--batch-size", "N", "samples per step; the last batch of an epoch takes the remainder", "128"),
        new("--lr", "X", "Adam learning rate", "0.001 (gan: 0.0002, with Adam's beta1 0.5)"),
        new("--weight-decay", "X", "L2 weight decay (added to the gradient, like torch.optim.Adam)", "0"),
        new("--adamw", null, "decoupled weight decay (AdamW) instead of L2"),
        new("--model", "KIND", $"the model: {ModelKinds.Names} (conditional: q(z|x,y), p(x|z,y) with y the class label; hierarchical: two stochastic layers z1, z2)", "mlp"),
        new("--arch", "A", "mlp, or conv: 4x4 stride-2 convolutions in the encoder, transposed ones in the decoder (--hidden then lists their channels)", "mlp"),
        new("--classes", "N", "classes of a conditional model's label", "the largest label in the data + 1"),
        new("--top-hidden", "LIST", "hierarchical models: hidden widths between z1 and z2", "100,100"),
        new("--d-steps", "K", "gan: discriminator steps per generator step (Goodfellow et al.'s k)", "1"),
        new("--gan-loss", "L", "gan: the generator's loss, non-saturating (max log D(G(z))) or minimax (min log(1 - D(G(z))))", "non-saturating"),
        new("--top-latent", "N", "hierarchical models: dimensions of the top latent z2", "50"),
        new("--corrupt", "C", "denoising VAE: the encoder sees corrupted images, the decoder is scored against the clean ones; " +
            "gaussian:S (add S * N(0,1), clamp to [0,1]), salt-pepper:P, mask:P (pixels zeroed with probability P), " +
            "downsample:F (F x F block means: super-resolution)", "none"),
        new("--estimator", "E", $"gradient of the encoder: {GradientEstimators.Names} (the score function, REINFORCE, learns far slower)", "reparam"),
        new("--free-bits", "LAMBDA", "a floor of LAMBDA nats under each latent dimension's KL, averaged over the batch (Kingma et al. 2016)", "0"),
        new("--kl-warmup", "STEPS", "beta ramps linearly from 0 to --beta over the first STEPS steps (against posterior collapse)", "0"),
        new("--hidden", "LIST", "hidden layer widths, input side first, e.g. 400 or 512,256", VaeConfig.DefaultHidden + " (hierarchical: 200,200)"),
        new("--latent", "N", "latent dimensions (hierarchical: of z1)", "20 (hierarchical: 100)"),
        new("--beta", "X", "weight of the KL term (beta-VAE)", "1"),
        new("--likelihood", "L", "decoder likelihood: bernoulli (logits) or gaussian (fixed sigma)", "bernoulli"),
        new("--sigma", "X", "standard deviation of the gaussian likelihood", "1"),
        new("--activation", "A", "hidden activation: relu, leaky-relu, tanh, sigmoid", "relu"),
        new("--binarize", null, "dynamic binarisation: pixels become 1 with probability equal to their intensity"),
        new("--seed", "N", "seed of every random draw (initialisation, shuffles, sampling)", "1"),
        SharedOptions.DeviceOption(),
        new("--data", "DIR", "directory of the IDX files (train-images-idx3-ubyte[.gz] and the other three)", IdxDataSet.DefaultDirectory),
        new("--run-dir", "DIR", "output directory", "runs/<yyyyMMdd-HHmmss>"),
        new("--resume", null, "continue the run in --run-dir from its checkpoint (start it if there is none); its settings are kept, --epochs and --max-steps may extend it"),
        new("--checkpoint-every", "N", "also save the checkpoint every N steps (0: after every epoch and when stopped only)", "0"),
        new("--eval-batch", "N", "test samples per evaluation batch", "1000"),
        new("--quiet", null, "print nothing but errors"),
    ];

    public override int Run(ParsedOptions o, CommandContext context)
    {
        var (model, training) = ParseSettings(o);
        long checkpointEvery = o.Long("--checkpoint-every", min: 0) ?? 0;
        string? runDirOption = o.Path("--run-dir", "a directory for the run's outputs");
        bool resume = o.Flag("--resume");
        if (resume && runDirOption is null)
            throw new UsageException("option '--resume' needs --run-dir DIR: the run directory to continue (or to start when it holds no checkpoint)");
        if (runDirOption is not null) CheckRunDirectory(runDirOption);
        bool quiet = o.Flag("--quiet");

        // Under mpirun, mpiexec or srun with several ranks: one process a rank, one MPI_COMM_WORLD.
        using var ranks = Communicators.ForThisProcess();
        if (ranks.Size == 1) return RunRank(o, context, model, training, checkpointEvery, runDirOption, resume, quiet, ranks);
        try
        {
            return RunRank(o, context, model, training, checkpointEvery, runDirOption, resume, quiet || ranks.Rank != 0, ranks);
        }
        catch (Exception e)
        {
            // The other ranks would wait for this one in their next collective call forever: end them all.
            int code = e switch
            {
                UsageException => ExitCodes.Usage,
                DataSetException or ModelFileException => ExitCodes.DataError,
                OperationCanceledException => ExitCodes.Interrupted,
                _ => ExitCodes.Failure,
            };
            // What happened comes first: a launcher may cut the line short when MPI_Abort ends the job.
            context.Error.WriteLine($"ilgpu-vae train: rank {ranks.Rank} of {ranks.Size} failed, ending every rank (exit {code}): {e.Message}");
            context.Error.Flush();
            ranks.Abort(code);
            throw;
        }
    }

    private static int RunRank(ParsedOptions o, CommandContext context, VaeConfig model, TrainingOptions training, long checkpointEvery,
        string? runDirOption, bool resume, bool quiet, ICommunicator ranks)
    {
        if (ranks.Rank != 0)
        {
            // Rank 0 alone owns the run directory (its lock, its files); the others only read its checkpoint.
            string shared = Path.GetFullPath(runDirOption ?? Path.Combine("runs", "rank0"));
            return RunLocked(o, context, model, training, checkpointEvery, resume, quiet, shared, ranks);
        }
        // The lock before anything is read from the directory: two processes must never train one run.
        bool existed = runDirOption is not null && Directory.Exists(runDirOption);
        using var runLock = ClaimRunDirectory(runDirOption);
        try
        {
            return RunLocked(o, context, model, training, checkpointEvery, resume, quiet, runLock.Directory, ranks);
        }
        catch (Exception) when (!existed && RunDirectoryLock.HoldsOnlyTheLock(runLock.Directory))
        {
            // A run that failed before writing anything (bad data, a model too large) leaves no empty directory behind.
            runLock.Dispose();
            RunDirectoryLock.RemoveEmpty(runLock.Directory);
            throw;
        }
    }

    private static int RunLocked(ParsedOptions o, CommandContext context, VaeConfig model, TrainingOptions training, long checkpointEvery,
        bool resume, bool quiet, string runDir, ICommunicator ranks)
    {
        var removed = ranks.Rank == 0 ? AtomicFile.RemoveStaleTemporaryFiles(runDir) : [];
        if (removed.Count > 0 && !quiet)
            context.Out.WriteLine($"removed {removed.Count} temporary file(s) that a killed run left in {runDir}: {string.Join(", ", removed)}");
        string checkpointPath = Path.Combine(runDir, CheckpointFile.FileName);

        TrainingCheckpoint? checkpoint = null;
        if (resume && File.Exists(checkpointPath))
        {
            checkpoint = LoadCheckpoint(checkpointPath);
            (model, training) = ResumedSettings(o, model, training, checkpoint);
            if (checkpoint.IsComplete(training))
            {
                if (ranks.Rank == 0) RewriteOutdatedOutputs(o, context, runDir, checkpoint, training);
                var at = checkpoint.Position;
                if (!quiet)
                    context.Out.WriteLine($"run {runDir} is complete at step {at.Step} ({training.Epochs} epochs" +
                        (training.MaxSteps is { } max ? $", step limit {max}" : "") + "): nothing to train; raise --epochs or --max-steps to train further");
                return ExitCodes.Ok;
            }
        }
        else if (!resume && File.Exists(checkpointPath))
        {
            throw new UsageException($"run directory '{runDir}' already holds a run ({CheckpointFile.FileName}): " +
                "add --resume to continue it, or choose another --run-dir");
        }
        string dataDir = o.Path("--data", "a directory of IDX files") ?? checkpoint?.Data.Directory ?? IdxDataSet.DefaultDirectory;

        // The device first: a mistyped --device is reported before seconds of data loading.
        using var accelerator = OpenRankDevice(o, ranks);
        var data = IdxDataSet.Load(dataDir);
        context.Model = new ModelMemory(CheckModelSize(model, data), ModelMemory.TrainingBuffers);
        var reporter = new ConsoleReporter(context.Out, context.IsTerminal, quiet);
        // A progress bar redraws often; log lines every 100 steps keep batch logs short.
        training = training with { ProgressEvery = context.IsTerminal ? 10 : 100 };
        var settings = new TrainingRunSettings(model, training, runDir, dataDir)
        {
            Resume = checkpoint, CheckpointEvery = checkpointEvery, Communicator = ranks,
        };
        if (ranks.Size > 1) reporter.Info($"{ranks.Size} ranks: {ranks.Description}; each takes its share of every batch of {training.BatchSize}");
        var result = TrainingRun.Execute(accelerator, data, settings, reporter, context.Cancellation);
        if (result.Interrupted)
        {
            if (ranks.Rank == 0)
                context.Error.WriteLine($"ilgpu-vae train: interrupted after step {result.Steps}; outputs and checkpoint written to {result.RunDirectory} " +
                $"(continue with --run-dir {runDir} --resume)");
            return ExitCodes.Interrupted;
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The device of one rank: --device as given for a single process; in a parallel run the CPU's
    /// threads shared among the node's ranks, and a bare cuda or opencl the node-local rank's GPU.
    /// </summary>
    private static Accelerator OpenRankDevice(ParsedOptions o, ICommunicator ranks)
    {
        if (ranks.Size == 1) return SharedOptions.OpenDevice(o);
        string spec = o.String("--device", "cpu")!;
        if (spec == "cpu") return new CpuAccelerator(Math.Max(1, Environment.ProcessorCount / ranks.LocalSize));
        if (spec is "cuda" or "opencl")
        {
            try { return Devices.Open($"{spec}:{ranks.LocalRank}"); }
            catch (ArgumentException e) { throw new UsageException($"option '--device': {e.Message} (rank {ranks.Rank} takes device {ranks.LocalRank} of its node)"); }
        }
        return SharedOptions.OpenDevice(o);
    }

    private static TrainingCheckpoint LoadCheckpoint(string path)
    {
        TrainingCheckpoint checkpoint;
        try { checkpoint = CheckpointFile.Load(path); }
        catch (InvalidDataException e) { throw new ModelFileException(e.Message + " (move it away to start the run afresh)", e); }
        // This program never saves one, but a checkpoint of an older version or another tool may hold NaN.
        SharedOptions.RefuseNonFinite(path, checkpoint.Config, checkpoint.Parameters);
        return checkpoint;
    }

    /// <summary>
    /// A resumed run keeps the checkpoint's model and training settings: an option given anyway must
    /// agree with them (model and training are what <see cref="ParseSettings"/> made of the options).
    /// --epochs and --max-steps, when given, set how far the run goes.
    /// </summary>
    public static (VaeConfig Model, TrainingOptions Training) ResumedSettings(ParsedOptions o, VaeConfig model, TrainingOptions training,
        TrainingCheckpoint checkpoint)
    {
        var c = CultureInfo.InvariantCulture;
        (string Option, Func<VaeConfig, TrainingOptions, string> Value)[] kept =
        [
            ("--model", (m, t) => ModelKinds.Of(m.Kind).Name),
            ("--classes", (m, t) => m.Classes.ToString(c)),
            ("--arch", (m, t) => m.Kind == ModelKind.Conv ? "conv" : "mlp"),
            ("--top-hidden", (m, t) => string.Join(",", m.TopHidden)),
            ("--top-latent", (m, t) => m.TopLatent.ToString(c)),
            ("--corrupt", (m, t) => t.Corruption.ToString()),
            ("--estimator", (m, t) => GradientEstimators.Name(t.Estimator)),
            ("--d-steps", (m, t) => t.DiscriminatorSteps.ToString(c)),
            ("--kl-warmup", (m, t) => t.KlWarmupSteps.ToString(c)),
            ("--free-bits", (m, t) => t.FreeBits.ToString("R", c)),
            ("--gan-loss", (m, t) => GanLosses.Name(t.GanLoss)),
            ("--batch-size", (m, t) => t.BatchSize.ToString(c)),
            ("--lr", (m, t) => t.Adam.LearningRate.ToString("R", c)),
            ("--weight-decay", (m, t) => t.Adam.WeightDecay.ToString("R", c)),
            ("--adamw", (m, t) => t.Adam.Decoupled ? "AdamW" : "Adam"),
            ("--hidden", (m, t) => string.Join(",", m.Hidden)),
            ("--latent", (m, t) => m.Latent.ToString(c)),
            ("--beta", (m, t) => m.Beta.ToString("R", c)),
            ("--likelihood", (m, t) => m.Likelihood.ToString().ToLowerInvariant()),
            ("--sigma", (m, t) => m.Sigma.ToString("R", c)),
            ("--activation", (m, t) => m.Activation.ToString().ToLowerInvariant()),
            ("--binarize", (m, t) => t.Binarize ? "on" : "off"),
            ("--seed", (m, t) => t.Seed.ToString(c)),
            ("--eval-batch", (m, t) => t.EvalBatch.ToString(c)),
        ];
        foreach (var (option, value) in kept)
        {
            if (!o.Has(option)) continue;
            string given = value(model, training), run = value(checkpoint.Config, checkpoint.Options);
            if (given != run)
                throw new UsageException($"option '{option}': {given} differs from the resumed run's {run}; " +
                    "a resumed run keeps its settings (leave the option out, or start a new run)");
        }
        var options = checkpoint.Options with
        {
            Epochs = o.Has("--epochs") ? training.Epochs : checkpoint.Options.Epochs,
            MaxSteps = o.Has("--max-steps") ? training.MaxSteps : checkpoint.Options.MaxSteps,
        };
        return (checkpoint.Config, options);
    }

    /// <summary>The model and training settings of the options (every value checked, errors name the option).</summary>
    public static (VaeConfig Model, TrainingOptions Training) ParseSettings(ParsedOptions o)
    {
        string kindName = o.String("--model", "mlp")!;
        var kind = ModelKinds.Parse(kindName) ?? throw ParsedOptions.Bad("--model", kindName, $"one of {ModelKinds.Names}");
        bool conv = o.Choice("--arch", false, new Dictionary<string, bool> { ["mlp"] = false, ["conv"] = true });
        if (conv && kind is not (ModelKind.Mlp or ModelKind.Conv))
            throw new UsageException($"option '--arch conv' builds the plain VAE with convolutions; --model {kindName} has an MLP only");
        if (conv) kind = ModelKind.Conv;
        bool hierarchical = kind == ModelKind.Hierarchical;
        // The hierarchical model's defaults are Burda et al.'s two-layer sizes: 784-200-200-[100]-100-100-[50].
        bool gan = kind == ModelKind.Gan;
        int[] hidden = Widths(o, "--hidden", hierarchical ? "200,200" : kind == ModelKind.Conv ? "32,64" : gan ? "512,256" : VaeConfig.DefaultHidden);
        if (!gan && (o.Has("--d-steps") || o.Has("--gan-loss"))) throw new UsageException("options '--d-steps' and '--gan-loss' are for --model gan");
        string ganLossName = o.String("--gan-loss", "non-saturating")!;
        var ganLoss = GanLosses.Parse(ganLossName) ?? throw ParsedOptions.Bad("--gan-loss", ganLossName, "non-saturating or minimax");
        if (!hierarchical && (o.Has("--top-hidden") || o.Has("--top-latent")))
            throw new UsageException("options '--top-hidden' and '--top-latent' are for --model hierarchical");

        if (kind != ModelKind.Conditional && o.Has("--classes"))
            throw new UsageException("option '--classes' is for --model conditional");
        Corruption corruption;
        try { corruption = Corruption.Parse(o.String("--corrupt", "none")!); }
        catch (FormatException e) { throw new UsageException($"option '--corrupt': {e.Message}"); }
        string estimatorName = o.String("--estimator", "reparam")!;
        var estimator = GradientEstimators.Parse(estimatorName) ?? throw ParsedOptions.Bad("--estimator", estimatorName, $"one of {GradientEstimators.Names}");

        var model = new VaeConfig
        {
            Kind = kind,
            // 0: counted from the data's labels when the data is loaded.
            Classes = kind == ModelKind.Conditional ? o.Int("--classes", 0, min: 2, max: 256) : 0,
            Hidden = hidden,
            Latent = o.Int("--latent", hierarchical ? 100 : gan ? 64 : 20, min: 1),
            TopHidden = hierarchical ? Widths(o, "--top-hidden", "100,100") : [],
            TopLatent = hierarchical ? o.Int("--top-latent", 50, min: 1) : 0,
            Beta = o.Float("--beta", 1f, min: 0f),
            Likelihood = o.Choice("--likelihood", Likelihood.Bernoulli, Likelihoods),
            Sigma = o.Float("--sigma", 1f, positive: true),
            Activation = o.Choice("--activation", Activation.Relu, Activations),
        };
        var training = new TrainingOptions
        {
            Epochs = o.Int("--epochs", 10, min: 1),
            MaxSteps = o.Long("--max-steps", min: 1),
            BatchSize = o.Int("--batch-size", 128, min: 1, max: 1 << 20),
            // A GAN trains with the Adam that GAN users expect (Radford et al. 2016): lr 2e-4, betas (0.5, 0.999).
            Adam = AdamSettings.Default with
            {
                Beta1 = gan ? 0.5f : AdamSettings.Default.Beta1,
                LearningRate = o.Float("--lr", gan ? 2e-4f : 1e-3f, positive: true),
                WeightDecay = o.Float("--weight-decay", 0f, min: 0f),
                Decoupled = o.Flag("--adamw"),
            },
            Binarize = o.Flag("--binarize"),
            Seed = o.ULong("--seed", 1),
            EvalBatch = o.Int("--eval-batch", 1000, min: 1, max: 1 << 20),
            Corruption = corruption,
            Estimator = estimator,
            DiscriminatorSteps = o.Int("--d-steps", 1, min: 1, max: 1000),
            KlWarmupSteps = o.Long("--kl-warmup", min: 0) ?? 0,
            FreeBits = o.Float("--free-bits", 0f, min: 0f),
            GanLoss = ganLoss,
        };
        if ((hierarchical || gan) && o.Has("--free-bits"))
            throw new UsageException("option '--free-bits' is implemented for one latent layer (mlp, conditional, conv)");
        if (hierarchical && estimator != GradientEstimator.Reparameterisation)
            throw new UsageException("option '--estimator': the score-function estimators are implemented for one latent layer (mlp, conditional, conv)");
        if (gan && (corruption.Kind != CorruptionKind.None || estimator != GradientEstimator.Reparameterisation))
            throw new UsageException("options '--corrupt' and '--estimator' are for the VAEs; a GAN has no encoder");
        return (model, training);
    }

    private static int[] Widths(ParsedOptions o, string option, string fallback)
    {
        try { return VaeConfig.ParseHidden(o.String(option, fallback)); }
        catch (FormatException) { throw ParsedOptions.Bad(option, o.String(option)!, "a list of positive layer widths such as 400 or 512,256"); }
    }

    /// <summary>
    /// A run directory must be a directory or creatable as one: a file in its place (or in place of a
    /// directory above it) is a usage error now rather than an I/O error after the data has loaded.
    /// </summary>
    private static void CheckRunDirectory(string runDir)
    {
        string full = Path.GetFullPath(runDir);
        for (string? path = full; path is not null; path = Path.GetDirectoryName(path))
        {
            if (Directory.Exists(path)) return;
            if (File.Exists(path))
                throw new UsageException(path == full
                    ? $"option '--run-dir': '{runDir}' is an existing file; expected a directory (existing or to be created)"
                    : $"option '--run-dir': '{runDir}' cannot be created: '{path}' is a file, not a directory");
        }
    }

    /// <summary>
    /// The parameter count of the model the options describe on images of the data's size, which must
    /// fit one device buffer: --hidden widths too large are a usage error naming the count and the limit.
    /// </summary>
    public static long CheckModelSize(VaeConfig model, IdxDataSet data)
    {
        var sized = model with { Input = data.Train.PixelsPerImage, ImageHeight = data.Train.Rows, ImageWidth = data.Train.Columns };
        if (model.Kind == ModelKind.Conv && ConvVaeNetwork.ShapeProblem(sized) is { } shape) throw new UsageException($"option '--arch conv': {shape}");
        if (sized.TooLarge() is { } problem)
            throw new UsageException($"option '--hidden': {VaeConfig.FormatHidden(model.Hidden)} (with --latent {model.Latent} on " +
                $"{data.Train.Rows}x{data.Train.Columns} images) is too large: {problem}; choose narrower or fewer hidden layers");
        return ParameterLayout.FlatLength(sized);
    }

    /// <summary>
    /// Locks --run-dir, or claims a new runs/yyyyMMdd-HHmmss[-N] (unique even for jobs started in the
    /// same second). Another process on the directory is a usage error naming it.
    /// </summary>
    private static RunDirectoryLock ClaimRunDirectory(string? runDir)
    {
        try
        {
            return runDir is null
                ? RunDirectoryLock.CreateUnique("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))
                : RunDirectoryLock.Acquire(runDir);
        }
        catch (RunDirectoryLockedException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// A complete run whose model or images are missing or older than its checkpoint (a job killed after
    /// the final checkpoint by an earlier version, or a file removed) gets them rewritten from the
    /// checkpoint, so a requeued job never ends "complete" without its outputs.
    /// </summary>
    private static void RewriteOutdatedOutputs(ParsedOptions o, CommandContext context, string runDir, TrainingCheckpoint checkpoint,
        TrainingOptions training)
    {
        var outdated = TrainingRun.OutdatedOutputs(runDir, checkpoint);
        if (outdated.Count == 0) return;
        string dataDir = o.String("--data") ?? checkpoint.Data.Directory;
        using var accelerator = SharedOptions.OpenDevice(o);
        TrainingRun.RewriteOutputs(accelerator, IdxDataSet.Load(dataDir), dataDir, runDir, checkpoint, training);
        if (!o.Flag("--quiet"))
            context.Out.WriteLine($"rewrote {string.Join(", ", outdated)} of the complete run {runDir} from its {CheckpointFile.FileName}");
    }
}
