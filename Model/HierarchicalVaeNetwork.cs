using IlgpuVae.Kernels;
using IlgpuVae.Model.Layers;

namespace IlgpuVae.Model;

/// <summary>
/// A VAE with two stochastic layers (<see cref="ModelKind.Hierarchical"/>): p(z2) = N(0, I), p(z1 | z2)
/// and p(x | z1), in Burda et al.'s sizes by default (784-200-200-z1 100-100-100-z2 50).
///
/// Inference is the Ladder VAE's (Sønderby et al. 2016), top-down: a deterministic bottom-up pass
/// d1 = MLP(x), d2 = MLP(d1) gives q(z2 | x) from d2 and a bottom-up estimate of z1 from d1; z2 is drawn,
/// the generative path gives p(z1 | z2), and q(z1 | x, z2) is the precision-weighted merge of the two
/// Gaussians. Both KL terms are then analytic, KL(q(z2|x) || N(0, I)) and KL(q(z1|x,z2) || p(z1|z2))
/// given the drawn z2, and the prior's parameters are shared by inference and generation. (Burda et
/// al.'s bottom-up order, z2 ~ q(z2 | z1), would leave log p(z1|z2) - log q(z1|x) to one sample.)
///
/// The loss of a row: recon(x | z1) + beta (KL_z2 + KL_z1). z1's noise is drawn as a one-layer model
/// draws z (elements row * L1 of the step's RandomSource); z2's takes elements 2^31 + row * L2 of the
/// same (seed, step, stream), so the two never share a counter and a rank's rows draw what they draw
/// in one process.
/// </summary>
public sealed class HierarchicalVaeNetwork : IVaeModel
{
    private const uint TopOffset = 0x8000_0000;

    private readonly Accelerator _acc;
    private readonly DenseStack _bottomUp, _topUp, _prior, _decoder;
    private readonly DeviceBuffer<float> _q1Hat, _q2, _p1, _q1, _eps1, _z1, _eps2, _z2, _dq1Hat, _dq2, _dp1, _dq1, _dz1, _dz2, _dd1, _dd2,
        _dPriorOut, _logits, _dlogits, _means, _loss, _kl1, _kl2;
    private readonly List<IDisposable> _owned = [];

    public HierarchicalVaeNetwork(Accelerator accelerator, VaeConfig config, int capacity, ReadOnlySpan<float> initialParameters)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (config.Kind != ModelKind.Hierarchical) throw new ArgumentException($"a {config.Kind} configuration is not a hierarchical model", nameof(config));
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "batch capacity must be > 0");
        _acc = accelerator;
        Layout = new ParameterLayout(config);
        Capacity = capacity;
        if (initialParameters.Length != Layout.Length)
            throw new ArgumentException($"initial parameters have {initialParameters.Length} floats; the layout of {config.Describe()} needs {Layout.Length}", nameof(initialParameters));
        Parameters = Own(accelerator.Upload(initialParameters));
        Gradients = Own(accelerator.Allocate<float>(Layout.Length));
        accelerator.Fill(Gradients, 0f);

        var act = config.Activation;
        _bottomUp = new DenseStack(accelerator, Layout.Group("encoder"), act, capacity, Rows);
        _topUp = new DenseStack(accelerator, Layout.Group("top_encoder"), act, capacity, Rows);
        _prior = new DenseStack(accelerator, Layout.Group("prior"), act, capacity, Rows);
        _decoder = new DenseStack(accelerator, Layout.Group("decoder"), act, capacity, Rows);
        int l1 = config.Latent, l2 = config.TopLatent;
        _q1Hat = Rows(2 * l1); _q2 = Rows(2 * l2); _p1 = Rows(2 * l1); _q1 = Rows(2 * l1);
        _eps1 = Rows(l1); _z1 = Rows(l1); _eps2 = Rows(l2); _z2 = Rows(l2);
        _dq1Hat = Rows(2 * l1); _dq2 = Rows(2 * l2); _dp1 = Rows(2 * l1); _dq1 = Rows(2 * l1);
        _dz1 = Rows(l1); _dz2 = Rows(l2);
        _dd1 = Rows(config.Hidden[^1]); _dd2 = Rows(config.TopHidden[^1]); _dPriorOut = Rows(config.TopHidden[0]);
        _logits = Rows(config.Input); _dlogits = Rows(config.Input); _means = Rows(config.Input);
        _loss = Rows(1); _kl1 = Rows(1); _kl2 = Rows(1);
    }

    /// <summary>
    /// The tensors: the bottom-up MLP (encoder.i) and z1's bottom-up heads (q1_mu | q1_logvar), the top
    /// bottom-up MLP (top_encoder.i) and z2's heads (q2_mu | q2_logvar), the prior's MLP from z2
    /// (prior.i) and p(z1|z2)'s heads (p1_mu | p1_logvar), then the decoder (decoder.i) and fc4.
    /// </summary>
    public static void DescribeLayout(ParameterLayout.Builder b, VaeConfig config)
    {
        int width = config.Input;
        for (int i = 0; i < config.Hidden.Count; i++) { b.Linear("encoder", $"encoder.{i}", width, config.Hidden[i]); width = config.Hidden[i]; }
        int d1 = width;
        b.Heads("heads", "q1_mu", "q1_logvar", d1, config.Latent);
        for (int i = 0; i < config.TopHidden.Count; i++) { b.Linear("top_encoder", $"top_encoder.{i}", width, config.TopHidden[i]); width = config.TopHidden[i]; }
        b.Heads("top_heads", "q2_mu", "q2_logvar", width, config.TopLatent);
        width = config.TopLatent;
        for (int i = config.TopHidden.Count - 1; i >= 0; i--) { b.Linear("prior", $"prior.{config.TopHidden.Count - 1 - i}", width, config.TopHidden[i]); width = config.TopHidden[i]; }
        b.Heads("prior_heads", "p1_mu", "p1_logvar", width, config.Latent);
        width = config.Latent;
        for (int i = config.Hidden.Count - 1; i >= 0; i--) { b.Linear("decoder", $"decoder.{config.Hidden.Count - 1 - i}", width, config.Hidden[i]); width = config.Hidden[i]; }
        b.Linear("output", "fc4", width, config.Input);
    }

    public VaeConfig Config => Layout.Config;
    public ParameterLayout Layout { get; }
    public Accelerator Accelerator => _acc;
    public int Capacity { get; }
    public DeviceBuffer<float> Parameters { get; }
    public DeviceBuffer<float> Gradients { get; }

    public float KlScale { get; set; } = 1f;

    /// <summary>Free bits are implemented for one latent layer; setting a floor here is refused.</summary>
    public float FreeBits
    {
        get => 0f;
        set { if (value != 0f) throw new NotSupportedException("free bits are implemented for one latent layer (mlp, conditional, conv)"); }
    }

    /// <summary>The KL terms' weight in this forward: beta, scaled during a KL warm-up.</summary>
    private float KlWeight => Config.Beta * KlScale;

    /// <summary>The lower layer's posterior q(z1 | x, z2), its eps and z1: what the one-layer views mean here.</summary>
    public DeviceView<float> Stats(int rows) => _q1.Slice(0, rows * 2 * Config.Latent);
    public DeviceView<float> Eps(int rows) => _eps1.Slice(0, rows * Config.Latent);
    public DeviceView<float> Latent(int rows) => _z1.Slice(0, rows * Config.Latent);
    public DeviceView<float> Logits(int rows) => _logits.Slice(0, rows * Config.Input);
    public DeviceView<float> PerSampleLoss(int rows) => _loss.Slice(0, rows);
    public DeviceView<float> PerSampleKl(int rows) => _kl1.Slice(0, rows);

    /// <summary>The eps of z2's draw in the last forward (rows x TopLatent).</summary>
    public DeviceView<float> TopEps(int rows) => _eps2.Slice(0, rows * L2);

    public IReadOnlyList<KlTerm> KlTerms(int rows) => [new KlTerm("kl_z1", _kl1.Slice(0, rows)), new KlTerm("kl_z2", _kl2.Slice(0, rows))];

    private DeviceView<float> View(DeviceBuffer<float> buffer, int rows, int width) => buffer.Slice(0, rows * width);
    private int L1 => Config.Latent;
    private int L2 => Config.TopLatent;

    // ------------------------------------------------------------------ training step

    public void ForwardLoss(VaeBatch batch, int rows, RandomSource random)
    {
        CheckBatch(batch, rows);
        Infer(batch.EncoderInput, rows, random, sample: true);
        DeviceView<float> logits = Decode(View(_z1, rows, L1), rows);
        var loss = PerSampleLoss(rows);
        var dq1 = View(_dq1, rows, 2 * L1);
        var dp1 = View(_dp1, rows, 2 * L1);
        // recon + beta KL(q(z2|x) || N(0, I)): the fused loss with z2's statistics; then beta KL(q1 || p1) added.
        _acc.VaeLoss(Config.LossSettings with { Beta = KlWeight }, logits, batch.Target, View(_q2, rows, 2 * L2), rows, Config.Input, L2,
            loss, View(_dlogits, rows, Config.Input), View(_dq2, rows, 2 * L2), _kl2.Slice(0, rows));
        _acc.Fill(dq1, 0f);
        _acc.Fill(dp1, 0f);
        _acc.GaussianKl(View(_q1, rows, 2 * L1), View(_p1, rows, 2 * L1), rows, L1, KlWeight, loss, dq1, dp1, _kl1.Slice(0, rows));
    }

    public void Backward(VaeBatch batch, int rows, GradientEstimator estimator = GradientEstimator.Reparameterisation)
    {
        CheckBatch(batch, rows);
        if (estimator != GradientEstimator.Reparameterisation)
            throw new NotSupportedException("the score-function estimators are implemented for one-latent models (mlp, conditional)");
        var p = Parameters;
        var g = Gradients;

        // Decoder, down to dz1.
        var dLogits = View(_dlogits, rows, Config.Input);
        var decoderIn = View(_z1, rows, L1);
        var dz1 = View(_dz1, rows, L1);
        var output = Layout.Output;
        var decoderTop = _decoder.Count == 0 ? decoderIn : DecoderTop(rows);
        var dDecoderTop = _decoder.Count == 0 ? dz1 : DecoderTopGrad(rows);
        Linear.Backward(_acc, p, g, output, decoderTop, rows, dLogits, dDecoderTop);
        if (_decoder.Count > 0) _decoder.Backward(p, g, dDecoderTop, rows, dz1);

        // Through z1's draw into q1 (which holds the KL's gradient), then through the merge to both Gaussians.
        var dq1 = View(_dq1, rows, 2 * L1);
        _acc.SampleLatentBackward(View(_q1, rows, 2 * L1), View(_eps1, rows, L1), dz1, rows, L1, dq1);
        var dq1Hat = View(_dq1Hat, rows, 2 * L1);
        _acc.Fill(dq1Hat, 0f);
        _acc.PrecisionMergeBackward(View(_q1Hat, rows, 2 * L1), View(_p1, rows, 2 * L1), dq1, rows, L1, dq1Hat, View(_dp1, rows, 2 * L1));

        // p(z1 | z2)'s heads and MLP, down to dz2.
        var dz2 = View(_dz2, rows, L2);
        var priorHeads = Layout.Group("prior_heads")[0];
        if (_prior.Count == 0)
        {
            Linear.Backward(_acc, p, g, priorHeads, View(_z2, rows, L2), rows, View(_dp1, rows, 2 * L1), dz2);
        }
        else
        {
            var dPriorOut = View(_dPriorOut, rows, priorHeads.In);
            Linear.Backward(_acc, p, g, priorHeads, _priorOut, rows, View(_dp1, rows, 2 * L1), dPriorOut);
            _prior.Backward(p, g, dPriorOut, rows, dz2);
        }

        // Through z2's draw into q2 (which holds its KL's gradient), then the top bottom-up path to d1.
        var dq2 = View(_dq2, rows, 2 * L2);
        _acc.SampleLatentBackward(View(_q2, rows, 2 * L2), View(_eps2, rows, L2), dz2, rows, L2, dq2);
        var dd1 = View(_dd1, rows, Config.Hidden[^1]);
        var topHeads = Layout.Group("top_heads")[0];
        var dd2 = View(_dd2, rows, topHeads.In);
        Linear.Backward(_acc, p, g, topHeads, _d2, rows, dq2, dd2);
        _topUp.Backward(p, g, dd2, rows, dd1);

        // z1's bottom-up heads add their part to d1's gradient; then the bottom-up MLP (the input's gradient is not needed).
        Linear.Backward(_acc, p, g, Layout.Heads, _d1, rows, dq1Hat, dd1, accumulate: true);
        _bottomUp.Backward(p, g, dd1, rows, default);
    }

    // ------------------------------------------------------------------ the passes

    private DeviceView<float> _d1, _d2, _priorOut;

    /// <summary>
    /// The bottom-up pass, z2 (drawn, or its mean), p(z1 | z2), the merge into q1 and z1 (drawn, or q1's mean).
    /// </summary>
    private void Infer(DeviceView<float> x, int rows, RandomSource random, bool sample)
    {
        var p = Parameters;
        _d1 = _bottomUp.Forward(p, x, rows);
        Linear.Forward(_acc, p, Layout.Heads, _d1, rows, View(_q1Hat, rows, 2 * L1), Activation.Identity);
        _d2 = _topUp.Forward(p, _d1, rows);
        Linear.Forward(_acc, p, Layout.Group("top_heads")[0], _d2, rows, View(_q2, rows, 2 * L2), Activation.Identity);
        var z2 = View(_z2, rows, L2);
        if (sample) _acc.SampleLatent(View(_q2, rows, 2 * L2), rows, L2, TopRandom(random), View(_eps2, rows, L2), z2);
        else _acc.CopyColumns(View(_q2, rows, 2 * L2), rows, 2 * L2, 0, z2, L2, 0, L2);
        PriorOfZ1(z2, rows);
        _acc.PrecisionMerge(View(_q1Hat, rows, 2 * L1), View(_p1, rows, 2 * L1), rows, L1, View(_q1, rows, 2 * L1));
        var z1 = View(_z1, rows, L1);
        if (sample) _acc.SampleLatent(View(_q1, rows, 2 * L1), rows, L1, random, View(_eps1, rows, L1), z1);
        else _acc.CopyColumns(View(_q1, rows, 2 * L1), rows, 2 * L1, 0, z1, L1, 0, L1);
    }

    /// <summary>p(z1 | z2) into _p1.</summary>
    private void PriorOfZ1(DeviceView<float> z2, int rows)
    {
        _priorOut = _prior.Forward(Parameters, z2, rows);
        Linear.Forward(_acc, Parameters, Layout.Group("prior_heads")[0], _priorOut, rows, View(_p1, rows, 2 * L1), Activation.Identity);
    }

    private DeviceView<float> Decode(DeviceView<float> z1, int rows)
    {
        var top = _decoder.Forward(Parameters, z1, rows);
        _decoderTop = top;
        Linear.Forward(_acc, Parameters, Layout.Output, top, rows, Logits(rows), Activation.Identity);
        return Logits(rows);
    }

    private DeviceView<float> _decoderTop;
    private DeviceBuffer<float>? _decoderTopGrad;
    private DeviceView<float> DecoderTop(int rows) => _decoderTop;
    private DeviceView<float> DecoderTopGrad(int rows) =>
        (_decoderTopGrad ??= Rows(Layout.Output.In)).Slice(0, rows * Layout.Output.In);

    /// <summary>z2's draws: a caller's offset counts z1 elements (row * L1); z2's start at 2^31 + row * L2.</summary>
    private RandomSource TopRandom(RandomSource random) => random with { Offset = TopOffset + random.Offset / (uint)L1 * (uint)L2 };

    // ------------------------------------------------------------------ inference pieces

    /// <summary>q(z1 | x, z2) with z2 at its posterior mean, in <see cref="Stats"/>.</summary>
    public DeviceView<float> EncodeStats(VaeBatch batch, int rows)
    {
        CheckBatch(batch, rows);
        Infer(batch.EncoderInput, rows, default, sample: false);
        return Stats(rows);
    }

    /// <summary>z1 = the mean of q(z1 | x, z2) with z2 at the mean of q(z2 | x): what the model keeps of x.</summary>
    public DeviceView<float> EncodeMean(VaeBatch batch, int rows)
    {
        CheckBatch(batch, rows);
        Infer(batch.EncoderInput, rows, default, sample: false);
        return Latent(rows);
    }

    public DeviceView<float> DecodeLogits(DeviceView<float> z, int rows, DeviceView<float> condition = default)
    {
        CheckLatent(z, rows, condition);
        return Decode(z, rows);
    }

    public DeviceView<float> DecodeMeans(DeviceView<float> z, int rows, DeviceView<float> condition = default)
    {
        CheckLatent(z, rows, condition);
        Decode(z, rows);
        var means = _means.Slice(0, rows * Config.Input);
        if (Config.Likelihood == Likelihood.Bernoulli) _acc.ActivationForward(Activation.Sigmoid, Logits(rows), means);
        else _acc.Copy(Logits(rows), means);
        return means;
    }

    /// <summary>Through the hierarchy: z2 ~ N(0, I), z1 ~ p(z1 | z2), the decoder's means of z1.</summary>
    public DeviceView<float> SamplePrior(int rows, RandomSource random, DeviceView<float> condition = default)
    {
        CheckRows(rows);
        if (!condition.IsNull) throw new ArgumentException("a hierarchical model takes no labels", nameof(condition));
        var q2 = View(_q2, rows, 2 * L2);
        _acc.Fill(q2, 0f);
        _acc.SampleLatent(q2, rows, L2, TopRandom(random), View(_eps2, rows, L2), View(_z2, rows, L2));
        PriorOfZ1(View(_z2, rows, L2), rows);
        _acc.SampleLatent(View(_p1, rows, 2 * L1), rows, L1, random, View(_eps1, rows, L1), View(_z1, rows, L1));
        return DecodeMeans(View(_z1, rows, L1), rows);
    }

    // ------------------------------------------------------------------ checks and buffers

    private void CheckRows(int rows)
    {
        if (rows <= 0 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be in 1..{Capacity}");
    }

    private void CheckBatch(VaeBatch batch, int rows)
    {
        CheckRows(rows);
        if (batch.Target.Length != rows * Config.Input)
            throw new ArgumentException($"x has {batch.Target.Length} elements; expected {rows}x{Config.Input}", nameof(batch));
        if (!batch.Input.IsNull && batch.Input.Length != rows * Config.Input)
            throw new ArgumentException($"the encoder's input has {batch.Input.Length} elements; expected {rows}x{Config.Input}", nameof(batch));
        if (!batch.Condition.IsNull) throw new ArgumentException("a hierarchical model takes no labels", nameof(batch));
    }

    private void CheckLatent(DeviceView<float> z, int rows, DeviceView<float> condition)
    {
        CheckRows(rows);
        if (z.Length != rows * L1) throw new ArgumentException($"z1 has {z.Length} elements; expected {rows}x{L1}", nameof(z));
        if (!condition.IsNull) throw new ArgumentException("a hierarchical model takes no labels", nameof(condition));
    }

    private DeviceBuffer<float> Rows(int width) => Own(_acc.Allocate<float>(Capacity * width));

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
