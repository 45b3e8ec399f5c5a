namespace IlgpuVae.Kernels;

/// <summary>What the op mapping needs to know of a device to pick tile sizes and work-group shapes.</summary>
public readonly record struct KernelDeviceLimits(int MaxWorkGroupSize, long LocalMemoryBytes, int ComputeUnits, bool IsGpu, int SimdWidth);

/// <summary>An argument of a kernel launch: a device buffer (the backend's own buffer type) or a 32-bit scalar.</summary>
public readonly struct KernelArg
{
    private KernelArg(KernelArgKind kind, object? buffer, uint bits) { Kind = kind; BufferObject = buffer; Bits = bits; }

    public KernelArgKind Kind { get; }
    /// <summary>For Kind == Buffer: the DeviceBuffer&lt;T&gt; subclass of the launching backend.</summary>
    public object? BufferObject { get; }
    /// <summary>For scalars: the raw 32 bits (int, uint or float).</summary>
    public uint Bits { get; }

    public static KernelArg Buffer<T>(DeviceBuffer<T> buffer) where T : unmanaged => new(KernelArgKind.Buffer, buffer, 0);
    public static KernelArg Int(int value) => new(KernelArgKind.Int32, null, unchecked((uint)value));
    public static KernelArg UInt(uint value) => new(KernelArgKind.UInt32, null, value);
    public static KernelArg Float(float value) => new(KernelArgKind.Float32, null, BitConverter.SingleToUInt32Bits(value));
}

public enum KernelArgKind { Buffer, Int32, UInt32, Float32 }

/// <summary>
/// Base of the backends that run the shared kernel sources (OpenCL, CUDA). The backend contract is
/// tinygrad's: alloc, free, copy in, copy out, plus build a program and launch a kernel by name. The op
/// mapping (which kernel, which arguments, which geometry) is written once, in KernelAcceleratorOps.cs.
///
/// Launch geometry is OpenCL's: global = total work-items per dimension (a multiple of local),
/// local = work-group size; a CUDA backend launches grid = global / local blocks of local threads.
/// Buffers are passed as the base buffer plus a separate int element offset argument.
/// </summary>
public abstract partial class KernelAccelerator : Accelerator
{
    /// <summary>Device properties the op mapping uses for compile-time defines and work-group shapes.</summary>
    public abstract KernelDeviceLimits Limits { get; }

    /// <summary>
    /// Compiles a kernel family: the backend prepends its prelude (KernelSources "prelude_opencl.h" or
    /// "prelude_cuda.h") and one "#define NAME VALUE" line per entry of defines, then source. Afterwards
    /// every kernel of the family can be launched by name. Compile errors throw with the build log.
    /// </summary>
    protected internal abstract void BuildProgram(string family, string source, IReadOnlyDictionary<string, string> defines);

    /// <summary>
    /// The largest work-group a built kernel can run with (OpenCL's CL_KERNEL_WORK_GROUP_SIZE, CUDA's
    /// CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK): register-heavy kernels can be held below the device's
    /// maximum. Backends without such a query keep the default, no limit. BuildProgram may be called again
    /// for a family already built: the new kernels then replace the old ones.
    /// </summary>
    protected internal virtual int KernelWorkGroupLimit(string kernel) => int.MaxValue;

    /// <summary>Enqueues one kernel launch (asynchronous; ordered with every other op and copy).</summary>
    protected internal abstract void Launch(string kernel, ReadOnlySpan<KernelArg> args, int globalX, int globalY, int localX, int localY);
}
