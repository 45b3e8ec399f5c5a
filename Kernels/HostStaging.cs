namespace IlgpuVae.Kernels;

/// <summary>
/// Host memory that device copies go through often (the gradients of a parallel step on their way to
/// and from the all-reduce): a pinned array, which a GPU backend also page-locks so that its copies are
/// direct DMA rather than staged through the driver's own bounce buffer. Dispose releases the lock.
/// </summary>
public class HostStaging<T> : IDisposable where T : unmanaged
{
    internal HostStaging(int length) => Array = GC.AllocateUninitializedArray<T>(length, pinned: true);

    /// <summary>The memory: copy to and from it with <see cref="Accelerator.CopyToHost{T}"/> and <see cref="Accelerator.CopyFromHost{T}"/>.</summary>
    public T[] Array { get; }

    public Span<T> Span => Array;

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Undoes what the accelerator did to the memory (page locking).</summary>
    protected virtual void Release() { }
}
