namespace IlgpuVae.Kernels.Cpu;

/// <summary>A CPU "device" buffer: a managed array (no native resource to free).</summary>
public sealed class CpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    internal CpuBuffer(Accelerator accelerator, int length) : base(accelerator, length)
        => Data = length == 0 ? [] : GC.AllocateUninitializedArray<T>(length, pinned: true);

    internal T[] Data { get; }

    protected override void DisposeCore() { }
}

internal static class CpuViews
{
    public static T[] Array<T>(this DeviceView<T> view) where T : unmanaged => ((CpuBuffer<T>)view.Buffer!).Data;
    public static Span<T> Span<T>(this DeviceView<T> view) where T : unmanaged => new(view.Array(), view.Offset, view.Length);
}
