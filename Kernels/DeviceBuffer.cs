namespace IlgpuVae.Kernels;

/// <summary>
/// A typed buffer in an accelerator's memory. Created by <see cref="Accelerator.Allocate{T}"/>; the
/// backend subclass owns the native resource (a SafeHandle) and frees it on Dispose.
/// </summary>
public abstract class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    protected DeviceBuffer(Accelerator accelerator, int length)
    {
        Accelerator = accelerator;
        Length = length;
    }

    public Accelerator Accelerator { get; }

    /// <summary>Number of elements of T.</summary>
    public int Length { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>The whole buffer as a view.</summary>
    public DeviceView<T> View => new(this, 0, Length);

    public DeviceView<T> Slice(int offset, int length) => View.Slice(offset, length);

    public static implicit operator DeviceView<T>(DeviceBuffer<T> buffer) => buffer.View;

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        DisposeCore();
        GC.SuppressFinalize(this);
    }

    protected abstract void DisposeCore();
}

/// <summary>
/// A window (offset, length in elements) into a device buffer. Ops take views so that the named
/// parameter tensors of the one flat parameter buffer are passed without copies; kernels receive the
/// base buffer plus an element offset (OpenCL sub-buffers have alignment rules, offsets do not).
/// </summary>
public readonly struct DeviceView<T> where T : unmanaged
{
    public DeviceView(DeviceBuffer<T> buffer, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || length < 0 || (long)offset + length > buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"view [{offset}, {(long)offset + length}) does not fit a buffer of {buffer.Length} elements");
        Buffer = buffer;
        Offset = offset;
        Length = length;
    }

    public DeviceBuffer<T>? Buffer { get; }
    public int Offset { get; }
    public int Length { get; }

    /// <summary>True for the default value: "no buffer" (an absent optional operand).</summary>
    public bool IsNull => Buffer is null;

    public DeviceView<T> Slice(int offset, int length)
    {
        if (Buffer is null) throw new InvalidOperationException("cannot slice a null view");
        if (offset < 0 || length < 0 || (long)offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"slice [{offset}, {(long)offset + length}) does not fit a view of {Length} elements");
        return new DeviceView<T>(Buffer, Offset + offset, length);
    }

    public override string ToString() => Buffer is null ? "null view" : $"view [{Offset}, {Offset + Length}) of {Buffer.Length}";
}
