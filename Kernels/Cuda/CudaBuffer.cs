namespace IlgpuVae.Kernels.Cuda;

/// <summary>What a kernel launch needs of a CUDA buffer whatever its element type.</summary>
internal interface ICudaBuffer
{
    Accelerator Accelerator { get; }
    bool IsDisposed { get; }
    /// <summary>The device address of element 0 (0 for an empty buffer: the driver cannot allocate 0 bytes).</summary>
    ulong DevicePointer { get; }
}

/// <summary>Device memory of one CUDA context, freed by its SafeHandle.</summary>
public sealed class CudaBuffer<T> : DeviceBuffer<T>, ICudaBuffer where T : unmanaged
{
    private readonly CudaDeviceMemoryHandle? _memory;

    internal CudaBuffer(CudaAccelerator accelerator, int length, CudaDeviceMemoryHandle? memory) : base(accelerator, length)
        => _memory = memory;

    public ulong DevicePointer => _memory is null ? 0 : _memory.Pointer;

    /// <summary>The device address of element offset of this buffer.</summary>
    internal unsafe ulong AddressOf(int offset) => DevicePointer + (ulong)offset * (ulong)sizeof(T);

    protected override void DisposeCore() => _memory?.Dispose();
}
