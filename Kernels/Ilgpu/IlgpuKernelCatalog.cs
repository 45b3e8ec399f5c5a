using System.Reflection;
using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>One kernel of the ILGPU backend: its name, its method, and whether it is explicitly grouped.</summary>
public sealed record IlgpuKernelEntry(string Name, MethodInfo Method, bool ExplicitlyGrouped);

/// <summary>
/// Every kernel the ILGPU backend loads, for the checks that compile each of them ahead of a device
/// (PTX through ptxas). Every kernel here is explicitly grouped: the launch sizes its groups.
/// </summary>
public static class IlgpuKernelCatalog
{
    public static IReadOnlyList<IlgpuKernelEntry> All { get; } =
    [
        Entry("gemm_tiled_64x64", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>)IlgpuGemmKernel.Tiled<GemmTile64x64>),
        Entry("gemm_tiled_16x32", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>)IlgpuGemmKernel.Tiled<GemmTile16x32>),
        Entry("activation_forward", (Action<ArrayView<float>, ArrayView<float>, int, float>)IlgpuActivationKernels.Forward),
        Entry("activation_backward", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>)IlgpuActivationKernels.Backward),
        Entry("fill", (Action<ArrayView<float>, float>)IlgpuActivationKernels.Fill),
        Entry("reduce_sum", (Action<ArrayView<float>, ArrayView<float>>)IlgpuReduceKernels.Sum),
        Entry("bias_gradient", (Action<ArrayView<float>, ArrayView<float>, int, int>)IlgpuReduceKernels.BiasGradient),
        Entry("sample_latent", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, PhiloxArgs>)IlgpuSamplingKernel.Forward),
        Entry("sample_latent_backward", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>)IlgpuSamplingKernel.Backward),
        Entry("philox_blocks", (Action<ArrayView<uint>, ArrayView<uint>, ArrayView<uint>>)IlgpuSamplingKernel.Blocks),
        Entry("vae_loss", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LossArgs>)IlgpuLossKernel.Loss),
        Entry("adam_step", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>)IlgpuAdamKernel.Step),
        Entry("gather_batch", (Action<ArrayView<byte>, ArrayView<int>, ArrayView<float>, int, int, PhiloxArgs>)IlgpuGatherKernel.Gather),
        Entry("importance_weights", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ImportanceArgs>)IlgpuImportanceKernels.Weights),
        Entry("logsumexp_rows", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)IlgpuImportanceKernels.LogSumExpRows),
        Entry("copy_columns", (Action<ArrayView<float>, ArrayView<float>, ColumnsArgs>)IlgpuModelKernels.CopyColumns),
        Entry("gather_one_hot", (Action<ArrayView<byte>, ArrayView<int>, ArrayView<float>, ColumnsArgs>)IlgpuModelKernels.GatherOneHot),
        Entry("corrupt_noise", (Action<ArrayView<float>, ArrayView<float>, int, float, PhiloxArgs>)IlgpuModelKernels.CorruptNoise),
        Entry("corrupt_downsample", (Action<ArrayView<float>, ArrayView<float>, int, int, int>)IlgpuModelKernels.CorruptDownsample),
        Entry("score_function_backward", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ScoreArgs>)IlgpuModelKernels.ScoreFunction),
        Entry("free_bits_dimensions", (Action<ArrayView<float>, ArrayView<float>, int, int, float>)IlgpuFreeBitsKernels.FreedDimensions),
        Entry("free_bits_floor", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, float>)IlgpuFreeBitsKernels.ApplyFloor),
        Entry("gaussian_kl", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, KlArgs>)IlgpuLatentKernels.GaussianKl),
        Entry("precision_merge", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)IlgpuLatentKernels.PrecisionMerge),
        Entry("precision_merge_backward", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)IlgpuLatentKernels.PrecisionMergeBackward),
        Entry("logistic_loss", (Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float>)IlgpuLatentKernels.LogisticLoss),
        Entry("im2col", (Action<ArrayView<float>, ArrayView<float>, ConvolutionArgs>)IlgpuConvolutionKernels.Im2Col),
        Entry("col2im", (Action<ArrayView<float>, ArrayView<float>, ConvolutionArgs>)IlgpuConvolutionKernels.Col2Im),
        Entry("bias_activation", (Action<ArrayView<float>, ArrayView<float>, int, int, float>)IlgpuConvolutionKernels.BiasActivation),
    ];

    private static IlgpuKernelEntry Entry(string name, Delegate kernel) => new(name, kernel.Method, ExplicitlyGrouped: true);
}
