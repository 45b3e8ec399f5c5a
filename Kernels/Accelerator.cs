namespace IlgpuVae.Kernels;

/// <summary>
/// The accelerator contract: typed device buffers, copies both ways, synchronise, dispose, and the op
/// set the VAE needs. Every public op validates shapes here, on the host, and throws an
/// ArgumentException before any launch; backends implement the protected *Core members and may assume
/// valid arguments. Ops are enqueued in order on one stream; CopyToHost and Synchronize wait.
///
/// Conventions: float32 everywhere, row-major matrices, lengths in elements. All outputs are
/// overwritten unless an op says it accumulates.
/// </summary>
public abstract partial class Accelerator : IDisposable
{
    public abstract BackendKind Kind { get; }

    /// <summary>Human-readable device name, e.g. "CPU (2 cores, AVX2)" or "NVIDIA H100 (sm_90)".</summary>
    public abstract string Name { get; }

    /// <summary>The device specifier that opens this device again, e.g. "cpu", "opencl:0", "cuda:0".</summary>
    public abstract string Specifier { get; }

    public bool IsDisposed { get; private set; }

    private long _allocations, _hostToDevice, _deviceToHost, _deviceToDevice, _synchronizations, _launches;

    /// <summary>Allocations, copies, waits and launches so far (not thread-safe, like the accelerator itself).</summary>
    public AcceleratorCounters Counters => new(_allocations, _hostToDevice, _deviceToHost, _deviceToDevice, _synchronizations, _launches);

    /// <summary>Kernel backends count each launch they enqueue.</summary>
    protected void CountLaunch() => _launches++;

    // ---------------------------------------------------------------- memory

    /// <summary>
    /// The largest buffer in elements: kernels index with 32-bit ints and round launch sizes up to whole
    /// work-groups, so lengths keep a margin below int.MaxValue.
    /// </summary>
    public const int MaxBufferLength = int.MaxValue - (1 << 16);

    public DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged
    {
        ThrowIfDisposed();
        if (length < 0 || length > MaxBufferLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"buffer length must be in 0..{MaxBufferLength}");
        _allocations++;
        return AllocateCore<T>(length);
    }

    /// <summary>Allocates a buffer and fills it from host memory.</summary>
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var buffer = Allocate<T>(data.Length);
        CopyFromHost(data, buffer.View);
        return buffer;
    }

    public void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceView<T> destination) where T : unmanaged
    {
        ThrowIfDisposed();
        Require(destination, nameof(destination));
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has {source.Length} elements, destination {destination.Length}", nameof(source));
        if (source.Length == 0) return;
        _hostToDevice++;
        CopyFromHostCore(source, destination);
    }

    /// <summary>Copies device memory to the host; waits for all earlier work.</summary>
    public void CopyToHost<T>(DeviceView<T> source, Span<T> destination) where T : unmanaged
    {
        ThrowIfDisposed();
        Require(source, nameof(source));
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has {source.Length} elements, destination {destination.Length}", nameof(destination));
        if (destination.Length == 0) return;
        _deviceToHost++;
        CopyToHostCore(source, destination);
    }

    /// <summary>
    /// Host memory for frequent copies both ways: pinned, and page-locked where the device can copy to
    /// it directly (CUDA). The default is a pinned array.
    /// </summary>
    public HostStaging<T> AllocateHostStaging<T>(int length) where T : unmanaged
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return AllocateHostStagingCore<T>(length);
    }

    protected virtual HostStaging<T> AllocateHostStagingCore<T>(int length) where T : unmanaged => new(length);

    public T[] Download<T>(DeviceView<T> source) where T : unmanaged
    {
        var result = new T[source.Length];
        CopyToHost(source, result);
        return result;
    }

    /// <summary>Device-to-device copy of equal-length views that do not overlap (CUDA's copies forbid it).</summary>
    public void Copy<T>(DeviceView<T> source, DeviceView<T> destination) where T : unmanaged
    {
        ThrowIfDisposed();
        Require(source, nameof(source));
        Require(destination, nameof(destination));
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has {source.Length} elements, destination {destination.Length}", nameof(destination));
        if (ReferenceEquals(source.Buffer, destination.Buffer) && source.Length > 0
            && source.Offset < destination.Offset + destination.Length && destination.Offset < source.Offset + source.Length)
            throw new ArgumentException($"source {source} and destination {destination} overlap", nameof(destination));
        if (source.Length == 0) return;
        _deviceToDevice++;
        CopyCore(source, destination);
    }

    /// <summary>Waits until every enqueued op has finished.</summary>
    public void Synchronize()
    {
        ThrowIfDisposed();
        _synchronizations++;
        SynchronizeCore();
    }

    protected abstract DeviceBuffer<T> AllocateCore<T>(int length) where T : unmanaged;
    protected abstract void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination) where T : unmanaged;
    protected abstract void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination) where T : unmanaged;
    protected abstract void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination) where T : unmanaged;
    protected abstract void SynchronizeCore();

    // ---------------------------------------------------------------- lifetime

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        DisposeCore();
        GC.SuppressFinalize(this);
    }

    protected virtual void DisposeCore() { }

    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    public override string ToString() => $"{Specifier}: {Name}";

    // ---------------------------------------------------------------- validation helpers

    private void Require<T>(DeviceView<T> view, string name) where T : unmanaged
    {
        if (view.Buffer is null) throw new ArgumentException($"{name} is a null view", name);
        if (!ReferenceEquals(view.Buffer.Accelerator, this))
            throw new ArgumentException($"{name} belongs to {view.Buffer.Accelerator.Specifier}, not {Specifier}", name);
        if (view.Buffer.IsDisposed) throw new ArgumentException($"{name} is disposed", name);
    }

    private void RequireLength<T>(DeviceView<T> view, long expected, string name, string shape) where T : unmanaged
    {
        Require(view, name);
        if (view.Length != expected)
            throw new ArgumentException($"{name} has {view.Length} elements; expected {expected} ({shape})", name);
    }

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be > 0");
    }
}
