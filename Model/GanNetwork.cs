using IlgpuVae.Kernels;
using IlgpuVae.Model.Layers;

namespace IlgpuVae.Model;

/// <summary>How the generator is scored (Goodfellow et al. 2014).</summary>
public enum GanLoss
{
    /// <summary>max log D(G(z)): the generator's gradient does not vanish while D rejects its samples (the default).</summary>
    NonSaturating = 0,
    /// <summary>min log(1 - D(G(z))): the minimax game as written.</summary>
    Minimax = 1,
}

/// <summary>The option and metadata names of the generator losses.</summary>
public static class GanLosses
{
    public static string Name(GanLoss loss) => loss == GanLoss.Minimax ? "minimax" : "non-saturating";

    public static GanLoss? Parse(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "non-saturating" => GanLoss.NonSaturating,
        "minimax" => GanLoss.Minimax,
        _ => null,
    };
}

/// <summary>
/// A GAN beside the VAEs (<see cref="ModelKind.Gan"/>), on the same kernels: an MLP generator
/// G(z) = sigmoid(MLP(z)), z ~ N(0, I) of Latent dimensions, through the hidden widths in reverse (as
/// a VAE's decoder), and an MLP discriminator D(x) through the hidden widths to one logit, with
/// LeakyReLU. Both live in the one flat parameter buffer, the generator's tensors first, so that each
/// player's Adam is one op over its contiguous range.
/// </summary>
public sealed class GanNetwork : IDisposable
{
    private readonly Accelerator _acc;
    private readonly DenseStack _generator, _discriminator;
    private readonly DeviceBuffer<float> _noise, _eps, _zeroStats, _generatorLogits, _fake, _dFake, _dDiscriminatorTop, _dGeneratorTop, _dLogitsG,
        _discriminatorInput, _logits, _dlogits, _loss;
    private readonly List<IDisposable> _owned = [];

    /// <param name="capacity">The most rows of a batch: the discriminator's step takes twice that (real and generated).</param>
    public GanNetwork(Accelerator accelerator, VaeConfig config, int capacity, ReadOnlySpan<float> initialParameters)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (config.Kind != ModelKind.Gan) throw new ArgumentException($"a {config.Kind} configuration is not a GAN", nameof(config));
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "batch capacity must be > 0");
        _acc = accelerator;
        Layout = new ParameterLayout(config);
        Capacity = capacity;
        if (initialParameters.Length != Layout.Length)
            throw new ArgumentException($"initial parameters have {initialParameters.Length} floats; the layout of {config.Describe()} needs {Layout.Length}", nameof(initialParameters));
        Parameters = Own(accelerator.Upload(initialParameters));
        Gradients = Own(accelerator.Allocate<float>(Layout.Length));
        accelerator.Fill(Gradients, 0f);
        _generator = new DenseStack(accelerator, Layout.Group("generator"), Activation.Relu, capacity, w => Rows(w));
        _discriminator = new DenseStack(accelerator, Layout.Group("discriminator"), Activation.LeakyRelu, 2 * capacity, w => Rows(w, 2));
        int input = config.Input, latent = config.Latent;
        _noise = Rows(latent); _eps = Rows(latent); _zeroStats = Rows(2 * latent);
        accelerator.Fill(_zeroStats, 0f);
        _generatorLogits = Rows(input); _fake = Rows(input); _dFake = Rows(input); _dLogitsG = Rows(input);
        _dDiscriminatorTop = Rows(Layout.Group("discriminator_out")[0].In, 2);
        _dGeneratorTop = Rows(Layout.Group("generator_out")[0].In);
        _discriminatorInput = Rows(input, 2); _logits = Rows(1, 2); _dlogits = Rows(1, 2); _loss = Rows(1, 2);
        GeneratorRange = (0, Layout["generator.out.bias"].Offset + Layout["generator.out.bias"].Length);
        var firstD = Layout.Tensors.First(t => t.Name.StartsWith("discriminator.", StringComparison.Ordinal));
        DiscriminatorRange = (firstD.Offset, Layout.Length - firstD.Offset);
    }

    /// <summary>generator.i (latent side first) and generator.out, then discriminator.i and discriminator.out (one logit).</summary>
    public static void DescribeLayout(ParameterLayout.Builder b, VaeConfig config)
    {
        int width = config.Latent;
        for (int i = config.Hidden.Count - 1; i >= 0; i--)
        {
            b.Linear("generator", $"generator.{config.Hidden.Count - 1 - i}", width, config.Hidden[i]);
            width = config.Hidden[i];
        }
        b.Linear("generator_out", "generator.out", width, config.Input);
        width = config.Input;
        for (int i = 0; i < config.Hidden.Count; i++) { b.Linear("discriminator", $"discriminator.{i}", width, config.Hidden[i]); width = config.Hidden[i]; }
        b.Linear("discriminator_out", "discriminator.out", width, 1);
    }

    public VaeConfig Config => Layout.Config;
    public ParameterLayout Layout { get; }
    public Accelerator Accelerator => _acc;
    public int Capacity { get; }
    public DeviceBuffer<float> Parameters { get; }
    public DeviceBuffer<float> Gradients { get; }

    /// <summary>Where each player's tensors are in the flat buffers (offset, length): its Adam works on that range alone.</summary>
    public (int Offset, int Length) GeneratorRange { get; }
    public (int Offset, int Length) DiscriminatorRange { get; }

    /// <summary>D's logits of the last discriminator step (real rows, then generated rows) or generator step.</summary>
    public DeviceView<float> Logits(int rows) => _logits.Slice(0, rows);

    /// <summary>Per-row losses of the last step (the discriminator's: real rows then generated rows).</summary>
    public DeviceView<float> PerSampleLoss(int rows) => _loss.Slice(0, rows);

    /// <summary>rows images G(z) for z drawn from random (Philox normals, as SampleLatent draws them).</summary>
    public DeviceView<float> Generate(int rows, RandomSource random)
    {
        CheckRows(rows);
        var z = _noise.Slice(0, rows * Config.Latent);
        _acc.SampleLatent(_zeroStats.Slice(0, rows * 2 * Config.Latent), rows, Config.Latent, random, _eps.Slice(0, rows * Config.Latent), z);
        var h = _generator.Forward(Parameters, z, rows);
        _generatorTop = h;
        var logits = _generatorLogits.Slice(0, rows * Config.Input);
        Linear.Forward(_acc, Parameters, Layout.Group("generator_out")[0], h, rows, logits, Activation.Identity);
        var fake = _fake.Slice(0, rows * Config.Input);
        _acc.ActivationForward(Activation.Sigmoid, logits, fake);
        return fake;
    }

    /// <summary>
    /// The discriminator's step, Algorithm 1's inner loop: D on rows real images and rows images G draws
    /// from random, the loss -log D(x) - log(1 - D(G(z))) per pair, and its gradients for D's tensors
    /// (the generator's are left as they are). Per-row losses in <see cref="PerSampleLoss"/> (2 rows).
    /// </summary>
    public void DiscriminatorStep(DeviceView<float> real, int rows, RandomSource random)
    {
        CheckRows(rows);
        int input = Config.Input;
        var fake = Generate(rows, random);
        var both = _discriminatorInput.Slice(0, 2 * rows * input);
        _acc.Copy(real, both.Slice(0, rows * input));
        _acc.Copy(fake, both.Slice(rows * input, rows * input));
        Discriminate(both, 2 * rows);
        _acc.LogisticLoss(_logits.Slice(0, rows), rows, 1f, 1f, _loss.Slice(0, rows), _dlogits.Slice(0, rows));
        _acc.LogisticLoss(_logits.Slice(rows, rows), rows, 0f, 1f, _loss.Slice(rows, rows), _dlogits.Slice(rows, rows));
        DiscriminatorBackward(2 * rows, default);
    }

    /// <summary>
    /// The generator's step: rows images G draws from random, scored by D with the chosen loss, and the
    /// gradients for G's tensors through D (D's gradients are overwritten on the way; its Adam does not
    /// run on them). Per-row losses in <see cref="PerSampleLoss"/> (rows).
    /// </summary>
    public void GeneratorStep(int rows, RandomSource random, GanLoss loss)
    {
        CheckRows(rows);
        var fake = Generate(rows, random);
        Discriminate(fake, rows);
        if (loss == GanLoss.NonSaturating) _acc.LogisticLoss(_logits.Slice(0, rows), rows, 1f, 1f, _loss.Slice(0, rows), _dlogits.Slice(0, rows));
        else _acc.LogisticLoss(_logits.Slice(0, rows), rows, 0f, -1f, _loss.Slice(0, rows), _dlogits.Slice(0, rows));
        var dFake = _dFake.Slice(0, rows * Config.Input);
        DiscriminatorBackward(rows, dFake);
        // Through the sigmoid and the generator.
        var dLogits = _dLogitsG.Slice(0, rows * Config.Input);
        _acc.ActivationBackward(Activation.Sigmoid, fake, dFake, dLogits);
        var top = _generatorTop;
        var outSlot = Layout.Group("generator_out")[0];
        if (_generator.Count == 0)
        {
            Linear.Backward(_acc, Parameters, Gradients, outSlot, top, rows, dLogits, default);
            return;
        }
        var dTop = _dGeneratorTop.Slice(0, rows * outSlot.In);
        Linear.Backward(_acc, Parameters, Gradients, outSlot, top, rows, dLogits, dTop);
        _generator.Backward(Parameters, Gradients, dTop, rows, default);
    }

    private DeviceView<float> _generatorTop, _discriminatorTop;

    /// <summary>D's logits of rows images (rows x Input) into <see cref="Logits"/>.</summary>
    public DeviceView<float> Discriminate(DeviceView<float> images, int rows)
    {
        _discriminatorTop = _discriminator.Forward(Parameters, images, rows);
        Linear.Forward(_acc, Parameters, Layout.Group("discriminator_out")[0], _discriminatorTop, rows, _logits.Slice(0, rows), Activation.Identity);
        return _logits.Slice(0, rows);
    }

    private void DiscriminatorBackward(int rows, DeviceView<float> dImages)
    {
        var outSlot = Layout.Group("discriminator_out")[0];
        var dTop = _dDiscriminatorTop.Slice(0, rows * outSlot.In);
        Linear.Backward(_acc, Parameters, Gradients, outSlot, _discriminatorTop, rows, _dlogits.Slice(0, rows), dTop);
        _discriminator.Backward(Parameters, Gradients, dTop, rows, dImages);
    }

    private void CheckRows(int rows)
    {
        if (rows <= 0 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in 1..{Capacity}");
    }

    private DeviceBuffer<float> Rows(int width, int factor = 1) => Own(_acc.Allocate<float>(factor * Capacity * width));

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        foreach (var resource in _owned) resource.Dispose();
        _owned.Clear();
    }
}
