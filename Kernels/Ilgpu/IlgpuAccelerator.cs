using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>
/// The accelerator contract on an ILGPU accelerator (CUDA, OpenCL, or ILGPU's CPU accelerator in
/// tests): C# kernels of this folder, loaded once as typed launchers, enqueued in order on the
/// device's default stream. Owns the ILGPU context it is given.
/// </summary>
public sealed partial class IlgpuAccelerator : Accelerator
{
    private readonly Context _context;
    private readonly ILGPU.Runtime.Accelerator _device;
    private readonly IlgpuKernels _kernels;

    /// <summary>Opens device of context; takes ownership of the context (disposed with this accelerator).</summary>
    public IlgpuAccelerator(Context context, Device device, BackendKind kind, string specifier)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrWhiteSpace(specifier);
        _context = context;
        try
        {
            _device = device.CreateAccelerator(context);
            GemmTile = _device.AcceleratorType == AcceleratorType.CPU || _device.MaxNumThreadsPerGroup < 256
                ? IlgpuGemmTile.Tile16x32 : IlgpuGemmTile.Tile64x64;
            if (_device.MaxNumThreadsPerGroup < 32)
                throw new DeviceUnavailableException($"{device.Name} allows {_device.MaxNumThreadsPerGroup} threads a group; the kernels need 32");
            Kind = kind;
            Specifier = specifier;
            Shapes = IlgpuLaunchShapes.For(_device);
            _kernels = LoadKernels(_device, device);
        }
        catch
        {
            _device?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The context settings the kernels need: ILGPU.Algorithms, which gives MathF's exp, log, sin, cos
    /// and tanh their GPU implementations (without it the PTX and OpenCL backends refuse the kernels),
    /// and full optimisation. Every context an IlgpuAccelerator is made from should be built with it.
    /// </summary>
    public static Context.Builder ConfigureContext(Context.Builder builder)
        => builder.EnableAlgorithms().Optimize(OptimizationLevel.O2);

    /// <summary>
    /// ILGPU's CPU accelerator on a device made for the tiled kernels: 32 threads a warp, up to 8 warps
    /// a group (so the GPU's 256-thread GEMM tile can run there too), one group at a time (ILGPU's
    /// default CPU device allows only 16 threads a group). Slow by design, one OS thread per GPU thread:
    /// for tests. Its own launches stay at one warp a group.
    /// </summary>
    public static IlgpuAccelerator CreateCpu()
    {
        var cpu = new CPUDevice(32, 8, 1);
        var context = Context.Create(builder => ConfigureContext(builder).CPU(cpu));
        return new IlgpuAccelerator(context, cpu, BackendKind.IlgpuCpu, "ilgpu-cpu");
    }

    private static IlgpuKernels LoadKernels(ILGPU.Runtime.Accelerator accelerator, Device device)
    {
        try
        {
            return new IlgpuKernels(accelerator);
        }
        catch (Exception e) when (e is InternalCompilerException or NotSupportedException)
        {
            throw new InvalidOperationException($"the ILGPU kernels do not compile for {device.Name}: {e.Message} " +
                "(a context for IlgpuAccelerator is built with IlgpuAccelerator.ConfigureContext)", e);
        }
    }

    public override BackendKind Kind { get; }
    public override string Specifier { get; }
    public override string Name => _device.AcceleratorType == AcceleratorType.CPU
        ? $"ILGPU CPU accelerator ({_device.MaxNumThreadsPerGroup} threads a group)"
        : $"{_device.Name} (ILGPU {_device.AcceleratorType})";

    /// <summary>The ILGPU accelerator underneath (tests and benchmarks).</summary>
    internal ILGPU.Runtime.Accelerator Device => _device;

    internal IlgpuLaunchShapes Shapes { get; }

    /// <summary>
    /// The GEMM's group shape: 64x64 tiles on GPUs, 16x32 (one warp) on ILGPU's CPU accelerator. Tests
    /// set the GPU shape on a CPU accelerator to run the GPU's kernel without a GPU.
    /// </summary>
    internal IlgpuGemmTile GemmTile { get; set; }

    // ---------------------------------------------------------------- memory

    protected override DeviceBuffer<T> AllocateCore<T>(int length)
        => new IlgpuBuffer<T>(this, length == 0 ? null : _device.Allocate1D<T>(length), length);

    protected override void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination)
    {
        destination.Dense().CopyFromCPU(_device.DefaultStream, source);
        // The span may be gone once this returns: the copy must have read it.
        _device.DefaultStream.Synchronize();
    }

    protected override void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination)
    {
        source.Dense().CopyToCPU(_device.DefaultStream, destination);
        _device.DefaultStream.Synchronize();
    }

    /// <summary>A pinned array that the device page-locks (cuMemHostRegister on CUDA), so its copies are direct DMA.</summary>
    protected override HostStaging<T> AllocateHostStagingCore<T>(int length) => new PageLockedStaging<T>(_device, length);

    private sealed class PageLockedStaging<T> : HostStaging<T> where T : unmanaged
    {
        private readonly PageLockScope<T>? _lock;

        public PageLockedStaging(ILGPU.Runtime.Accelerator device, int length) : base(length)
        {
            // Page locking is an optimisation: where a driver refuses it, the pinned array still works.
            try { _lock = length == 0 ? null : device.CreatePageLockFromPinned(Array); }
            catch (NotSupportedException) { _lock = null; }
        }

        protected override void Release() => _lock?.Dispose();
    }

    protected override void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination)
        => source.Dense().CopyTo(_device.DefaultStream, destination.Dense());

    protected override void SynchronizeCore() => _device.Synchronize();

    protected override void DisposeCore()
    {
        _device.Dispose();
        _context.Dispose();
    }
}

/// <summary>The GEMM kernel's group shape (see <see cref="IGemmTileShape"/>).</summary>
internal enum IlgpuGemmTile { Tile64x64, Tile16x32 }
