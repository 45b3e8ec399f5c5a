using ILGPU;
using ILGPU.Runtime;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// The typed launchers of every kernel, loaded once per accelerator (ILGPU compiles each on load).
/// Each launcher enqueues on the device's default stream; the first argument is the launch's groups.
/// </summary>
internal sealed class IlgpuKernels
{
    public IlgpuKernels(ILGPU.Runtime.Accelerator device)
    {
        Gemm64x64 = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(IlgpuGemmKernel.Tiled<GemmTile64x64>);
        Gemm16x32 = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(IlgpuGemmKernel.Tiled<GemmTile16x32>);
        ActivationForward = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float>(IlgpuActivationKernels.Forward);
        ActivationBackward = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(IlgpuActivationKernels.Backward);
        Fill = device.LoadStreamKernel<ArrayView<float>, float>(IlgpuActivationKernels.Fill);
        ReduceSum = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(IlgpuReduceKernels.Sum);
        BiasGradient = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(IlgpuReduceKernels.BiasGradient);
        SampleLatent = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, PhiloxArgs>(IlgpuSamplingKernel.Forward);
        SampleLatentBackward = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(IlgpuSamplingKernel.Backward);
        PhiloxBlocks = device.LoadStreamKernel<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>>(IlgpuSamplingKernel.Blocks);
        VaeLoss = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, LossArgs>(IlgpuLossKernel.Loss);
        Adam = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(IlgpuAdamKernel.Step);
        Gather = device.LoadStreamKernel<ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int, PhiloxArgs>(IlgpuGatherKernel.Gather);
        ImportanceWeights = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ImportanceArgs>(IlgpuImportanceKernels.Weights);
        LogSumExpRows = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(IlgpuImportanceKernels.LogSumExpRows);
        CopyColumns = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ColumnsArgs>(IlgpuModelKernels.CopyColumns);
        GatherOneHot = device.LoadStreamKernel<ArrayView<byte>, ArrayView<int>, ArrayView<float>, ColumnsArgs>(IlgpuModelKernels.GatherOneHot);
        CorruptNoise = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float, PhiloxArgs>(IlgpuModelKernels.CorruptNoise);
        CorruptDownsample = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(IlgpuModelKernels.CorruptDownsample);
        ScoreFunction = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ScoreArgs>(IlgpuModelKernels.ScoreFunction);
        FreedDimensions = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float>(IlgpuFreeBitsKernels.FreedDimensions);
        ApplyFloor = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, float>(
            IlgpuFreeBitsKernels.ApplyFloor);
        GaussianKl = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, KlArgs>(IlgpuLatentKernels.GaussianKl);
        PrecisionMerge = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(IlgpuLatentKernels.PrecisionMerge);
        PrecisionMergeBackward = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            int, int>(IlgpuLatentKernels.PrecisionMergeBackward);
        LogisticLoss = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float>(IlgpuLatentKernels.LogisticLoss);
        Im2Col = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ConvolutionArgs>(IlgpuConvolutionKernels.Im2Col);
        Col2Im = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ConvolutionArgs>(IlgpuConvolutionKernels.Col2Im);
        BiasActivation = device.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float>(IlgpuConvolutionKernels.BiasActivation);
    }

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float> FreedDimensions { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, float> ApplyFloor { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, KlArgs> GaussianKl { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> PrecisionMerge { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> PrecisionMergeBackward { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float> LogisticLoss { get; }

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> Gemm64x64 { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> Gemm16x32 { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, float> ActivationForward { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> ActivationBackward { get; }
    public Action<KernelConfig, ArrayView<float>, float> Fill { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>> ReduceSum { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> BiasGradient { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, PhiloxArgs> SampleLatent { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> SampleLatentBackward { get; }
    public Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>> PhiloxBlocks { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, LossArgs> VaeLoss { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs> Adam { get; }
    public Action<KernelConfig, ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int, PhiloxArgs> Gather { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ImportanceArgs> ImportanceWeights { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> LogSumExpRows { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ColumnsArgs> CopyColumns { get; }
    public Action<KernelConfig, ArrayView<byte>, ArrayView<int>, ArrayView<float>, ColumnsArgs> GatherOneHot { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, float, PhiloxArgs> CorruptNoise { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int> CorruptDownsample { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScoreArgs> ScoreFunction { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ConvolutionArgs> Im2Col { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ConvolutionArgs> Col2Im { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float> BiasActivation { get; }
}
