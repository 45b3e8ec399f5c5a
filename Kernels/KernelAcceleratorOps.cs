using System.Text;

namespace IlgpuVae.Kernels;

/// <summary>
/// The op mapping shared by the OpenCL and CUDA backends: which kernel of which family serves each op,
/// with which arguments and launch geometry. Families are compiled on first use and cached for the
/// life of the accelerator. Every buffer travels as (base buffer, int element offset).
/// </summary>
public abstract partial class KernelAccelerator
{
    private readonly HashSet<string> _builtFamilies = [];
    private readonly Lock _buildLock = new();
    private KernelTuning? _tuning;

    /// <summary>
    /// Tile and work-group sizes for this device; the same numbers become the families' defines. Tests
    /// set another device's tuning (before the first op) to run, say, the GPU configuration on PoCL.
    /// </summary>
    internal KernelTuning Tuning => _tuning ??= KernelTuning.For(TuningLimits);

    /// <summary>
    /// The device limits the tuning is chosen from: the device's own, unless a test sets another device's
    /// (before the first op) to run, say, the GPU configuration on PoCL.
    /// </summary>
    internal KernelDeviceLimits TuningLimits
    {
        get => _tuningLimits ??= Limits;
        set
        {
            lock (_buildLock)
            {
                if (_builtFamilies.Count > 0 && _tuningLimits != value)
                    throw new InvalidOperationException("the tuning is fixed once a kernel family is built");
                _tuningLimits = value;
                _tuning = null;
            }
        }
    }
    private KernelDeviceLimits? _tuningLimits;

    /// <summary>Which GEMM kernel to use; Auto picks by shape. Tests and benchmarks force one.</summary>
    internal GemmKernel GemmChoice { get; set; } = GemmKernel.Auto;

    // ---------------------------------------------------------------- sources and defines

    /// <summary>
    /// The full source of a family ("gemm" or "gemm.cl") as passed to BuildProgram: the family file with
    /// every `#include "x.h"` replaced by that embedded header (each header once, recursively), since
    /// neither OpenCL nor NVRTC can include an embedded resource. #line directives keep the compilers'
    /// messages pointing at the right file and line.
    /// </summary>
    internal static string FamilySource(string family)
    {
        var builder = new StringBuilder();
        AppendWithIncludes(builder, FamilyFile(family), new HashSet<string>(StringComparer.Ordinal));
        return builder.ToString();
    }

    /// <summary>The compile-time defines of a family on a device with these limits (empty when it has none).</summary>
    internal static IReadOnlyDictionary<string, string> DefinesFor(string family, KernelDeviceLimits limits)
        => DefinesFor(family, KernelTuning.For(limits));

    internal static IReadOnlyDictionary<string, string> DefinesFor(string family, KernelTuning tuning)
    {
        string name = FamilyName(family);
        return name switch
        {
            "gemm" => new Dictionary<string, string>
            {
                ["GEMM_TS_M"] = Text(tuning.GemmTileM),
                ["GEMM_TS_N"] = Text(tuning.GemmTileN),
                ["GEMM_TS_K"] = Text(tuning.GemmTileK),
                ["GEMM_WPT_M"] = Text(tuning.GemmWorkM),
                ["GEMM_WPT_N"] = Text(tuning.GemmWorkN),
                ["GEMM_BM"] = Text(tuning.GemmBlockM),
                ["GEMM_BN"] = Text(tuning.GemmBlockN),
                ["GEMM_DOT_M"] = Text(tuning.GemmDotM),
                ["GEMM_DOT_N"] = Text(tuning.GemmDotN),
            },
            "loss" => new Dictionary<string, string> { ["LOSS_WG"] = Text(tuning.LossGroup) },
            "reduce" => new Dictionary<string, string>
            {
                ["REDUCE_WG"] = Text(tuning.ReduceGroup),
                ["BIAS_WG_X"] = Text(tuning.BiasGroupX),
                ["BIAS_WG_Y"] = Text(tuning.BiasGroupY),
            },
            "dialect" => new Dictionary<string, string> { ["DIALECT_WG"] = Text(tuning.DialectGroup) },
            _ => new Dictionary<string, string>(),
        };

        static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string FamilyName(string family)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(family);
        return family.EndsWith(".cl", StringComparison.Ordinal) ? family[..^3] : family;
    }

    private static string FamilyFile(string family) => FamilyName(family) + ".cl";

    private static void AppendWithIncludes(StringBuilder builder, string file, HashSet<string> included)
    {
        string text = KernelSources.Load(file);
        builder.Append("#line 1 \"").Append(file).Append("\"\n");
        int lineNumber = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNumber++;
            string trimmed = line.Trim();
            if (trimmed.StartsWith("#include", StringComparison.Ordinal))
            {
                int open = trimmed.IndexOf('"'), close = trimmed.LastIndexOf('"');
                if (open < 0 || close <= open)
                    throw new InvalidOperationException($"{file}:{lineNumber}: only #include \"header.h\" of an embedded header is supported");
                string header = trimmed[(open + 1)..close];
                if (included.Add(header)) AppendWithIncludes(builder, header, included);
                builder.Append("#line ").Append(lineNumber + 1).Append(" \"").Append(file).Append("\"\n");
                continue;
            }
            builder.Append(line.TrimEnd('\r')).Append('\n');
        }
    }

    /// <summary>Compiles a family once per accelerator (ops call it on first use; tests to compile every family).</summary>
    internal void EnsureBuilt(string family)
    {
        string name = FamilyName(family);
        lock (_buildLock)
        {
            if (_builtFamilies.Contains(name)) return;
            string source = FamilySource(name);
            BuildProgram(name, source, DefinesFor(name, Tuning));
            _builtFamilies.Add(name);
            FitTuningToKernels(source);
        }
    }

    /// <summary>
    /// A driver that reports a smaller per-kernel limit than the device maximum (hypothetical here, as a
    /// test's stand-in for such a driver); null asks the backend.
    /// </summary>
    internal int? KernelWorkGroupLimitOverride { get; set; }

    /// <summary>
    /// The tuning is chosen from the device's maximum work-group size, but a kernel can be compiled to a
    /// smaller limit (many registers, e.g. the tiled GEMM on a mobile or older GPU), and then its launch
    /// would fail. When a newly built kernel reports a limit below the largest group the tuning uses,
    /// choose the tuning again for that limit and rebuild every family built so far with it.
    /// </summary>
    private void FitTuningToKernels(string source)
    {
        int limit = KernelWorkGroupLimitOverride ?? int.MaxValue;
        foreach (string kernel in KernelSources.KernelNames(source)) limit = Math.Min(limit, KernelWorkGroupLimit(kernel));
        if (limit >= Tuning.LargestGroup) return;
        var fitted = KernelTuning.For(TuningLimits with { MaxWorkGroupSize = limit });
        if (fitted.LargestGroup >= Tuning.LargestGroup) return; // nothing smaller to offer
        _tuningLimits = TuningLimits with { MaxWorkGroupSize = limit };
        _tuning = fitted;
        foreach (string family in _builtFamilies) BuildProgram(family, FamilySource(family), DefinesFor(family, fitted));
    }

    /// <summary>
    /// The tuning to compute a launch of family with: built first, because building a family can refit
    /// the tuning to its kernels' limits (<see cref="FitTuningToKernels"/>).
    /// </summary>
    private KernelTuning TuningFor(string family)
    {
        EnsureBuilt(family);
        return Tuning;
    }

    private void Run(string family, string kernel, ReadOnlySpan<KernelArg> args, int globalX, int globalY, int localX, int localY)
    {
        EnsureBuilt(family);
        CountLaunch();
        Launch(kernel, args, globalX, globalY, localX, localY);
    }

    private void Run1D(string family, string kernel, ReadOnlySpan<KernelArg> args, int workItems)
    {
        int local = TuningFor(family).ElementGroup;
        Run(family, kernel, args, RoundUp(Math.Max(workItems, 1), local), 1, local, 1);
    }

    private static int RoundUp(int value, int multiple) => (int)(((long)value + multiple - 1) / multiple * multiple);
    private static int CeilDiv(int value, int divisor) => (int)(((long)value + divisor - 1) / divisor);
    private static KernelArg Buf<T>(DeviceView<T> view) where T : unmanaged => KernelArg.Buffer(view.Buffer!);
    private static KernelArg Off<T>(DeviceView<T> view) where T : unmanaged => KernelArg.Int(view.Offset);
    private static KernelArg I(int value) => KernelArg.Int(value);
    private static KernelArg U(uint value) => KernelArg.UInt(value);
    private static KernelArg F(float value) => KernelArg.Float(value);

    // ---------------------------------------------------------------- ops

    protected override void GemmCore(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        DeviceView<float> a, DeviceView<float> b, float beta, DeviceView<float> c, Epilogue epilogue)
    {
        var t = TuningFor("gemm");
        bool hasBias = !epilogue.Bias.IsNull;
        // Without a bias, C stands in for the unused pointer (both APIs want a valid buffer there).
        DeviceView<float> bias = hasBias ? epilogue.Bias : c;
        ReadOnlySpan<KernelArg> args =
        [
            I((int)transA), I((int)transB), I(m), I(n), I(k), F(alpha),
            Buf(a), Off(a), Buf(b), Off(b), F(beta), Buf(c), Off(c),
            Buf(bias), Off(bias), I(hasBias ? 1 : 0), I((int)epilogue.Activation), F(epilogue.LeakySlope),
        ];
        switch (SelectGemm(transA, transB, m, n, k))
        {
            case GemmKernel.Tiled:
                int threadsN = t.GemmTileN / t.GemmWorkN, threadsM = t.GemmTileM / t.GemmWorkM;
                Run("gemm", "gemm_tiled", args, CeilDiv(n, t.GemmTileN) * threadsN, CeilDiv(m, t.GemmTileM) * threadsM, threadsN, threadsM);
                break;
            case GemmKernel.Blocked:
                Run("gemm", "gemm_blocked", args, RoundUp(CeilDiv(n, t.GemmBlockN), t.BlockedX), RoundUp(CeilDiv(m, t.GemmBlockM), t.BlockedY),
                    t.BlockedX, t.BlockedY);
                break;
            case GemmKernel.BlockedDot:
                Run("gemm", "gemm_blocked_dot", args, RoundUp(CeilDiv(n, t.GemmDotN), t.BlockedX), RoundUp(CeilDiv(m, t.GemmDotM), t.BlockedY),
                    t.BlockedX, t.BlockedY);
                break;
            default:
                Run("gemm", "gemm_direct", args, RoundUp(n, t.DirectX), RoundUp(m, t.DirectY), t.DirectX, t.DirectY);
                break;
        }
    }

    /// <summary>
    /// The kernel that serves a shape: on CPU devices the barrier-free register blocks (dot-product blocks
    /// for A B^T, where both operands run along k); on GPUs the local-memory tiles once a shape fills at
    /// least half a tile in each dimension, else the direct kernel. A forced BlockedDot serves only A B^T.
    /// </summary>
    internal GemmKernel SelectGemm(Transpose transA, Transpose transB, int m, int n, int k)
    {
        var t = TuningFor("gemm");
        bool dotLayout = transA == Transpose.N && transB == Transpose.T;
        var choice = GemmChoice != GemmKernel.Auto ? GemmChoice
            : t.PreferBlockedGemm ? GemmKernel.BlockedDot
            : m >= t.GemmTileM / 2 && n >= t.GemmTileN / 2 && k >= t.GemmTileK ? GemmKernel.Tiled : GemmKernel.Direct;
        return choice == GemmKernel.BlockedDot && !dotLayout ? GemmKernel.Blocked : choice;
    }

    protected override void ActivationForwardCore(Activation activation, DeviceView<float> x, DeviceView<float> y, float leakySlope)
        => Run1D("elementwise", "activation_forward",
            [I(x.Length), I((int)activation), F(leakySlope), Buf(x), Off(x), Buf(y), Off(y)], x.Length);

    protected override void ActivationBackwardCore(Activation activation, DeviceView<float> y, DeviceView<float> dy, DeviceView<float> dx, float leakySlope)
        => Run1D("elementwise", "activation_backward",
            [I(y.Length), I((int)activation), F(leakySlope), Buf(y), Off(y), Buf(dy), Off(dy), Buf(dx), Off(dx)], y.Length);

    protected override void BiasGradientCore(DeviceView<float> dy, int rows, int cols, DeviceView<float> dbias)
    {
        var t = TuningFor("reduce");
        Run("reduce", "bias_gradient", [I(rows), I(cols), Buf(dy), Off(dy), Buf(dbias), Off(dbias)],
            CeilDiv(cols, t.BiasGroupX) * t.BiasGroupX, t.BiasGroupY, t.BiasGroupX, t.BiasGroupY);
    }

    protected override void SampleLatentCore(DeviceView<float> stats, int rows, int latent, RandomSource random, DeviceView<float> eps, DeviceView<float> z)
        => Run1D("sampling", "sample_latent",
            [I(rows), I(latent), U((uint)random.Seed), U((uint)(random.Seed >> 32)), U(random.Step), U(random.Stream),
             Buf(stats), Off(stats), Buf(eps), Off(eps), Buf(z), Off(z)], CeilDiv(rows * latent, 4));

    protected override void SampleLatentBackwardCore(DeviceView<float> stats, DeviceView<float> eps, DeviceView<float> dz, int rows, int latent, DeviceView<float> dstats)
        => Run1D("sampling", "sample_latent_backward",
            [I(rows), I(latent), Buf(stats), Off(stats), Buf(eps), Off(eps), Buf(dz), Off(dz), Buf(dstats), Off(dstats)], rows * latent);

    protected override void VaeLossCore(LossSettings settings, DeviceView<float> logits, DeviceView<float> x, DeviceView<float> stats,
        int rows, int features, int latent, DeviceView<float> perSampleLoss, DeviceView<float> dlogits, DeviceView<float> dstats, DeviceView<float> perSampleKl)
    {
        bool hasKl = !perSampleKl.IsNull;
        DeviceView<float> kl = hasKl ? perSampleKl : perSampleLoss;
        int group = TuningFor("loss").LossGroup;
        Run("loss", "vae_loss",
            [I(rows), I(features), I(latent), I((int)settings.Likelihood), F(settings.Beta), F(settings.Sigma),
             Buf(logits), Off(logits), Buf(x), Off(x), Buf(stats), Off(stats), Buf(perSampleLoss), Off(perSampleLoss),
             Buf(dlogits), Off(dlogits), Buf(dstats), Off(dstats), Buf(kl), Off(kl), I(hasKl ? 1 : 0)],
            rows * group, 1, group, 1);
    }

    protected override void AdamCore(AdamSettings settings, float biasCorrection1, float biasCorrection2,
        DeviceView<float> parameters, DeviceView<float> gradients, DeviceView<float> m, DeviceView<float> v)
    {
        // Computed once here exactly as the CPU reference does, so both backends round alike.
        float stepSize = settings.LearningRate / biasCorrection1, sqrtBc2 = MathF.Sqrt(biasCorrection2);
        Run1D("adam", "adam_step",
            [I(parameters.Length), F(settings.LearningRate), F(settings.Beta1), F(settings.Beta2), F(settings.Epsilon),
             F(settings.WeightDecay), I(settings.Decoupled ? 1 : 0), F(stepSize), F(sqrtBc2),
             Buf(parameters), Off(parameters), Buf(gradients), Off(gradients), Buf(m), Off(m), Buf(v), Off(v)], parameters.Length);
    }

    protected override void GatherBatchCore(DeviceView<byte> data, int features, DeviceView<int> indices, int rows,
        DeviceView<float> output, bool binarize, RandomSource random)
        => Run1D("gather", "gather_batch",
            [I(rows), I(features), I(data.Length / features), I(binarize ? 1 : 0),
             U((uint)random.Seed), U((uint)(random.Seed >> 32)), U(random.Step), U(random.Stream),
             Buf(data), Off(data), Buf(indices), Off(indices), Buf(output), Off(output)], CeilDiv(rows * features, 4));

    protected override void ReduceSumCore(DeviceView<float> values, DeviceView<float> result)
    {
        int group = TuningFor("reduce").ReduceGroup;
        Run("reduce", "reduce_sum", [I(values.Length), Buf(values), Off(values), Buf(result), Off(result)], group, 1, group, 1);
    }

    protected override void FillCore(DeviceView<float> view, float value)
        => Run1D("elementwise", "fill_values", [I(view.Length), F(value), Buf(view), Off(view)], view.Length);

    /// <summary>
    /// Raw Philox4x32-10 blocks on the device: output[4q..4q+3] = Block(counters[4q..4q+3], keys[2q..2q+1]).
    /// Not part of the training op set: it lets a device be checked against the known-answer vectors.
    /// </summary>
    public void PhiloxBlocks(DeviceView<uint> counters, DeviceView<uint> keys, DeviceView<uint> output)
    {
        ThrowIfDisposed();
        if (counters.IsNull || keys.IsNull || output.IsNull) throw new ArgumentException("counters, keys and output are required");
        if (counters.Length % 4 != 0) throw new ArgumentException($"counters has {counters.Length} words, not a multiple of 4", nameof(counters));
        int blocks = counters.Length / 4;
        if (keys.Length != 2 * blocks) throw new ArgumentException($"keys has {keys.Length} words; expected {2 * blocks}", nameof(keys));
        if (output.Length != counters.Length) throw new ArgumentException($"output has {output.Length} words; expected {counters.Length}", nameof(output));
        foreach (var view in (ReadOnlySpan<DeviceView<uint>>)[counters, keys, output])
            if (!ReferenceEquals(view.Buffer!.Accelerator, this) || view.Buffer.IsDisposed)
                throw new ArgumentException($"{view} is disposed or belongs to another accelerator");
        if (blocks == 0) return;
        Run1D("sampling", "philox_blocks",
            [I(blocks), Buf(counters), Off(counters), Buf(keys), Off(keys), Buf(output), Off(output)], blocks);
    }
}

/// <summary>Which GEMM kernel serves a call.</summary>
internal enum GemmKernel { Auto, Tiled, Direct, Blocked, BlockedDot }

/// <summary>
/// Tile and work-group sizes of one device, chosen from its limits. The same record feeds the
/// compile-time defines (<see cref="KernelAccelerator.DefinesFor"/>) and the launch geometry, so the two
/// can never disagree.
/// </summary>
internal sealed record KernelTuning(
    int GemmTileM, int GemmTileN, int GemmTileK, int GemmWorkM, int GemmWorkN,
    int DirectX, int DirectY, int ElementGroup, int LossGroup, int ReduceGroup, int BiasGroupX, int BiasGroupY,
    bool PreferBlockedGemm, int GemmBlockM, int GemmBlockN, int GemmDotM, int GemmDotN, int BlockedX, int BlockedY)
{
    /// <summary>Work-group size of the dialect probe (dialect.cl).</summary>
    public int DialectGroup => Math.Min(64, ElementGroup);

    /// <summary>The largest work-group any launch of this tuning uses.</summary>
    public int LargestGroup => new[]
    {
        GemmTileM / GemmWorkM * (GemmTileN / GemmWorkN), DirectX * DirectY, ElementGroup, LossGroup, ReduceGroup,
        BiasGroupX * BiasGroupY, BlockedX * BlockedY, DialectGroup,
    }.Max();

    public static KernelTuning For(KernelDeviceLimits limits)
    {
        int maxGroup = Math.Max(1, limits.MaxWorkGroupSize);
        long localBytes = limits.LocalMemoryBytes;
        // Largest power of two <= min(cap, device maximum): every reduction tree halves evenly.
        int Pow2(int cap) { int p = 1; while (p * 2 <= Math.Min(cap, maxGroup)) p *= 2; return p; }

        // GEMM tiles: 64x64 outputs, 4x4 a work-item (256 work-items) where the device allows it,
        // shrinking to 32x32 (64 work-items) and 16x16 (16 work-items) for small work-group limits.
        (int tile, int tileK, int work) = maxGroup >= 256 ? (64, 16, 4) : maxGroup >= 64 ? (32, 16, 4) : (16, 8, 4);
        while (tile > 16 && 2L * tileK * (tile + 1) * sizeof(float) > localBytes) tile /= 2;

        int group = Pow2(256);
        // On a CPU the per-sample loss runs fastest as one work-item a sample: no barrier, and the
        // features form one contiguous loop the compiler can vectorise.
        int lossGroup = limits.IsGpu ? group : 1;
        int bias = maxGroup >= 256 ? 16 : maxGroup >= 64 ? 8 : 4;
        int directY = group >= 16 * 16 ? 16 : group >= 64 ? 8 : 4;
        int directX = Math.Max(1, Math.Min(16, group / directY));
        // CPU devices: 6x16 outer-product blocks and 4x3 dot-product blocks (the fastest measured on PoCL
        // with AVX2), one work-item a work-group (nothing to share without local memory, and the runtime's
        // work-item loop would only add overhead). GPUs, if forced onto them, get 2-D groups.
        bool cpu = !limits.IsGpu;
        int blockedX = cpu ? 1 : directX, blockedY = cpu ? 1 : directY;
        return new KernelTuning(tile, tile, tileK, work, work, directX, directY, group, lossGroup, group, bias, bias,
            cpu, 6, 16, 4, 3, blockedX, blockedY);
    }
}
