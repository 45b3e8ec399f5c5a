using ILGPU;
using ILGPU.Runtime;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>A device buffer in an ILGPU accelerator's memory; ILGPU frees it on Dispose.</summary>
public sealed class IlgpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    internal IlgpuBuffer(IlgpuAccelerator accelerator, MemoryBuffer1D<T, Stride1D.Dense>? memory, int length)
        : base(accelerator, length) => Memory = memory;

    /// <summary>Null for a zero-length buffer: ILGPU has nothing to allocate, and no op reads one.</summary>
    internal MemoryBuffer1D<T, Stride1D.Dense>? Memory { get; }

    protected override void DisposeCore() => Memory?.Dispose();
}

internal static class IlgpuViews
{
    /// <summary>The window as the dense 1-D view ILGPU copies work on.</summary>
    public static ArrayView1D<T, Stride1D.Dense> Dense<T>(this DeviceView<T> view) where T : unmanaged
    {
        var memory = ((IlgpuBuffer<T>)view.Buffer!).Memory;
        return memory is null ? default : memory.View.SubView(view.Offset, view.Length);
    }

    /// <summary>The window as a kernel argument: an ArrayView carries its offset, so kernels index from 0.</summary>
    public static ArrayView<T> Kernel<T>(this DeviceView<T> view) where T : unmanaged => view.Dense().AsContiguous();
}
