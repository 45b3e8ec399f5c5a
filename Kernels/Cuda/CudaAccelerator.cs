using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// One CUDA device through the driver API: its primary context, one non-blocking stream on which every
/// copy and launch is enqueued in order, pinned staging buffers for host copies, and the kernel
/// families compiled by NVRTC for the device's architecture (cached on disk). The op mapping is the
/// shared one of <see cref="KernelAccelerator"/>.
/// </summary>
public sealed unsafe class CudaAccelerator : KernelAccelerator
{
    private readonly CudaDriverApi _api;
    private readonly CudaContextHandle _context;
    private readonly CudaStreamHandle _stream;
    private readonly CudaStaging _staging;
    private readonly CudaKernelCompiler _compiler;
    private readonly Dictionary<string, CudaModuleHandle> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (IntPtr Function, string Family)> _functions = new(StringComparer.Ordinal);
    private readonly int _maxBlockX, _maxBlockY, _maxGridX, _maxGridY;

    internal CudaAccelerator(CudaDriverApi api, NvrtcApi nvrtc, int ordinal, CudaKernelCache? cache)
    {
        _api = api;
        Ordinal = ordinal;
        int device = api.Device(ordinal);
        DeviceName = api.DeviceName(device);
        ComputeCapability = 10 * api.Attribute(device, CudaDriverApi.AttributeComputeCapabilityMajor)
            + api.Attribute(device, CudaDriverApi.AttributeComputeCapabilityMinor);
        MemoryBytes = api.TotalMemory(device);
        Limits = new KernelDeviceLimits(
            MaxWorkGroupSize: api.Attribute(device, CudaDriverApi.AttributeMaxThreadsPerBlock),
            LocalMemoryBytes: api.Attribute(device, CudaDriverApi.AttributeMaxSharedMemoryPerBlock),
            ComputeUnits: api.Attribute(device, CudaDriverApi.AttributeMultiprocessorCount),
            IsGpu: true,
            SimdWidth: api.Attribute(device, CudaDriverApi.AttributeWarpSize));
        _maxBlockX = api.Attribute(device, CudaDriverApi.AttributeMaxBlockDimX);
        _maxBlockY = api.Attribute(device, CudaDriverApi.AttributeMaxBlockDimY);
        _maxGridX = api.Attribute(device, CudaDriverApi.AttributeMaxGridDimX);
        _maxGridY = api.Attribute(device, CudaDriverApi.AttributeMaxGridDimY);
        _compiler = new CudaKernelCompiler(nvrtc, cache);
        Target = CudaTarget.ForDevice(ComputeCapability, nvrtc.SupportedArchitectures, nvrtc.CanEmitCubin);

        _context = CudaContextHandle.RetainPrimary(api, device);
        try
        {
            _context.MakeCurrent();
            _stream = CudaStreamHandle.Create(_context, CudaDriverApi.StreamNonBlocking);
            _staging = new CudaStaging(_context, _stream);
        }
        catch
        {
            _stream?.Dispose();
            _context.Dispose();
            throw;
        }
    }

    public int Ordinal { get; }
    public string DeviceName { get; }
    /// <summary>10 * major + minor, e.g. 90 for an H100.</summary>
    public int ComputeCapability { get; }
    public long MemoryBytes { get; }
    /// <summary>What NVRTC compiles the kernels for on this device.</summary>
    public CudaTarget Target { get; }
    public override KernelDeviceLimits Limits { get; }

    public override BackendKind Kind => BackendKind.Cuda;
    public override string Name => $"{DeviceName} (sm_{ComputeCapability})";
    public override string Specifier => $"cuda:{Ordinal}";

    /// <summary>NVRTC runs since this accelerator opened; 0 when every family came from the disk cache.</summary>
    public int Compilations => _compiler.Compilations;

    private IntPtr Stream => _stream.DangerousGetHandle();

    // ---------------------------------------------------------------- memory

    protected override DeviceBuffer<T> AllocateCore<T>(int length)
    {
        _context.MakeCurrent();
        long bytes = (long)length * sizeof(T);
        return new CudaBuffer<T>(this, length, bytes == 0 ? null : CudaDeviceMemoryHandle.Allocate(_context, bytes));
    }

    protected override void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination)
    {
        _context.MakeCurrent();
        _staging.Upload(MemoryMarshal.AsBytes(source), Address(destination));
    }

    protected override void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination)
    {
        _context.MakeCurrent();
        _staging.Download(Address(source), MemoryMarshal.AsBytes(destination));
    }

    protected override void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination)
    {
        _context.MakeCurrent();
        _api.ThrowIfFailed(_api.cuMemcpyDtoDAsync(Address(destination), Address(source), (nuint)((long)source.Length * sizeof(T)), Stream));
    }

    protected override void SynchronizeCore()
    {
        _context.MakeCurrent();
        _api.ThrowIfFailed(_api.cuStreamSynchronize(Stream));
    }

    private static ulong Address<T>(DeviceView<T> view) where T : unmanaged => ((CudaBuffer<T>)view.Buffer!).AddressOf(view.Offset);

    // ---------------------------------------------------------------- kernels

    protected internal override void BuildProgram(string family, string source, IReadOnlyDictionary<string, string> defines)
    {
        ThrowIfDisposed();
        _context.MakeCurrent();
        var image = _compiler.Build(family, source, defines, Target);
        CudaModuleHandle module;
        try
        {
            module = LoadModule(image);
        }
        catch (CudaException) when (image.FromCache)
        {
            // A cached file the driver refuses (truncated, or written by another driver setup): rebuild it.
            _compiler.Cache?.Remove(family, image.CacheKey, image.Target);
            image = _compiler.Build(family, source, defines, Target, useCache: false);
            module = LoadModule(image);
        }

        if (_modules.Remove(family, out var previous))
        {
            // Kernels of the old image may still be queued.
            SynchronizeCore();
            foreach (string stale in _functions.Where(f => f.Value.Family == family).Select(f => f.Key).ToArray()) _functions.Remove(stale);
            previous.Dispose();
        }
        _modules[family] = module;
        foreach (string name in CudaKernelCompiler.KernelNames(source))
        {
            IntPtr function = module.TryGetFunction(name);
            if (function != IntPtr.Zero) _functions[name] = (function, family);
        }
    }

    /// <summary>
    /// Loads a built image. A fresh image the driver refuses most often means an NVRTC newer than the
    /// driver (its PTX ISA or CUBIN format is unknown to the driver): the error then says so.
    /// </summary>
    private CudaModuleHandle LoadModule(CudaKernelImage image)
    {
        try
        {
            return CudaModuleHandle.Load(_context, image.Image);
        }
        catch (CudaException e) when (!image.FromCache)
        {
            string driver = _api.DriverVersion(), nvrtc = _compiler.Nvrtc.Version;
            string hint = CompareVersions(nvrtc, driver) > 0
                ? $"; NVRTC {nvrtc} is newer than the CUDA driver ({driver}): use an NVRTC no newer than the driver, or update the driver"
                : $" (NVRTC {nvrtc}, driver {driver})";
            throw new CudaException($"the driver refused the {image.Family} kernels built for {image.Target}: {e.Message}{hint}", e.Status, e.ErrorName);
        }
    }

    /// <summary>Compares "major.minor" versions numerically.</summary>
    internal static int CompareVersions(string a, string b)
    {
        static (int, int) Parse(string v)
        {
            var parts = v.Split('.');
            return (int.TryParse(parts[0], out int major) ? major : 0, parts.Length > 1 && int.TryParse(parts[1], out int minor) ? minor : 0);
        }
        return Parse(a).CompareTo(Parse(b));
    }

    protected internal override int KernelWorkGroupLimit(string kernel)
    {
        if (!_functions.TryGetValue(kernel, out var entry)) return int.MaxValue;
        _context.MakeCurrent();
        int threads = 0;
        _api.ThrowIfFailed(_api.cuFuncGetAttribute(&threads, CudaDriverApi.FunctionAttributeMaxThreadsPerBlock, entry.Function),
            $"cuFuncGetAttribute({kernel}, MAX_THREADS_PER_BLOCK)");
        return threads > 0 ? threads : int.MaxValue;
    }

    protected internal override void Launch(string kernel, ReadOnlySpan<KernelArg> args, int globalX, int globalY, int localX, int localY)
    {
        ThrowIfDisposed();
        if (localX <= 0 || localY <= 0 || globalX < 0 || globalY < 0 || globalX % localX != 0 || globalY % localY != 0)
            throw new ArgumentException($"launch of {kernel}: global {globalX}x{globalY} is not a multiple of local {localX}x{localY}");
        if (localX > _maxBlockX || localY > _maxBlockY || (long)localX * localY > Limits.MaxWorkGroupSize)
            throw new ArgumentException($"launch of {kernel}: block {localX}x{localY} exceeds the device's {Limits.MaxWorkGroupSize} threads ({_maxBlockX}x{_maxBlockY})");
        int gridX = globalX / localX, gridY = globalY / localY;
        if (gridX > _maxGridX || gridY > _maxGridY)
            throw new ArgumentException($"launch of {kernel}: grid {gridX}x{gridY} exceeds the device's {_maxGridX}x{_maxGridY}");
        if (gridX == 0 || gridY == 0) return;
        if (!_functions.TryGetValue(kernel, out var entry))
            throw new InvalidOperationException($"kernel '{kernel}' is in no built program (built: {string.Join(", ", _modules.Keys)})");

        _context.MakeCurrent();
        // cuLaunchKernel takes one pointer per parameter, pointing at the value; 8 bytes hold either kind.
        ulong* values = stackalloc ulong[Math.Max(1, args.Length)];
        void** pointers = stackalloc void*[Math.Max(1, args.Length)];
        for (int i = 0; i < args.Length; i++)
        {
            values[i] = args[i].Kind == KernelArgKind.Buffer ? BufferAddress(kernel, i, args[i].BufferObject) : args[i].Bits;
            pointers[i] = &values[i];
        }
        _api.ThrowIfFailed(_api.cuLaunchKernel(entry.Function, (uint)gridX, (uint)gridY, 1, (uint)localX, (uint)localY, 1, 0, Stream, pointers, null),
            $"cuLaunchKernel({kernel}, grid {gridX}x{gridY}, block {localX}x{localY})");
    }

    private ulong BufferAddress(string kernel, int index, object? buffer)
    {
        if (buffer is not ICudaBuffer cuda)
            throw new ArgumentException($"argument {index} of {kernel} is a {buffer?.GetType().Name ?? "null"}, not a CUDA buffer");
        if (!ReferenceEquals(cuda.Accelerator, this))
            throw new ArgumentException($"argument {index} of {kernel} belongs to {cuda.Accelerator.Specifier}, not {Specifier}");
        if (cuda.IsDisposed) throw new ArgumentException($"argument {index} of {kernel} is disposed");
        return cuda.DevicePointer;
    }

    // ---------------------------------------------------------------- lifetime

    protected override void DisposeCore()
    {
        try
        {
            _context.MakeCurrent();
            _api.ThrowIfFailed(_api.cuStreamSynchronize(Stream));
        }
        catch (CudaException)
        {
            // A context with a sticky error (e.g. an illegal address) still has to be released.
        }
        foreach (var module in _modules.Values) module.Dispose();
        _modules.Clear();
        _functions.Clear();
        _staging.Dispose();
        _stream.Dispose();
        _context.Dispose();
    }
}
