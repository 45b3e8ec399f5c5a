using System.Runtime.InteropServices;

namespace IlgpuVae.Kernels.Cuda;

/// <summary>
/// Makes a context current on the calling thread. CUDA's current context is per thread, and an
/// accelerator may be driven from any thread (and its handles freed on the finalizer thread), so every
/// entry point calls this; the thread-static remembers what this code last set to skip the driver call.
/// </summary>
internal static unsafe class CudaCurrentContext
{
    [ThreadStatic] private static IntPtr t_current;
    [ThreadStatic] private static int t_generation;
    // Bumped whenever a context is released: a re-retained primary context can come back at the same
    // address, and then no thread's remembered value may be trusted.
    private static int s_generation = 1;

    public static void Set(CudaDriverApi api, IntPtr context)
    {
        if (IsCurrent(context)) return;
        api.ThrowIfFailed(api.cuCtxSetCurrent(context));
        Remember(context);
    }

    /// <summary>For release paths, which must not throw.</summary>
    public static bool TrySet(CudaDriverApi api, IntPtr context)
    {
        if (IsCurrent(context)) return true;
        if (api.cuCtxSetCurrent(context) != CudaDriverApi.Success) return false;
        Remember(context);
        return true;
    }

    public static void Invalidate() => Interlocked.Increment(ref s_generation);

    private static bool IsCurrent(IntPtr context) => t_current == context && t_generation == Volatile.Read(ref s_generation);

    private static void Remember(IntPtr context)
    {
        t_current = context;
        t_generation = Volatile.Read(ref s_generation);
    }
}

/// <summary>A retained primary context of one device; released when it and every handle made in it are gone.</summary>
internal sealed class CudaContextHandle : SafeHandle
{
    private readonly CudaDriverApi _api;

    private CudaContextHandle(CudaDriverApi api, int device) : base(IntPtr.Zero, ownsHandle: true)
    {
        _api = api;
        Device = device;
    }

    public int Device { get; }
    public CudaDriverApi Api => _api;
    public override bool IsInvalid => handle == IntPtr.Zero;

    public static unsafe CudaContextHandle RetainPrimary(CudaDriverApi api, int device)
    {
        var context = new CudaContextHandle(api, device);
        IntPtr raw;
        api.ThrowIfFailed(api.cuDevicePrimaryCtxRetain(&raw, device));
        context.SetHandle(raw);
        return context;
    }

    public void MakeCurrent() => CudaCurrentContext.Set(_api, DangerousGetHandle());

    protected override unsafe bool ReleaseHandle()
    {
        bool released = _api.cuDevicePrimaryCtxRelease(Device) == CudaDriverApi.Success;
        CudaCurrentContext.Invalidate();
        return released;
    }
}

/// <summary>
/// A resource that lives in a context (memory, stream, event, module). It holds a reference on the
/// context handle, so the primary context is released only after the last of them is freed, whatever
/// order Dispose and the finalizers run in; and it makes that context current before freeing.
/// </summary>
internal abstract class CudaContextResource : SafeHandle
{
    private CudaContextHandle? _context;

    protected CudaContextResource() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected CudaDriverApi Api => _context?.Api ?? throw new InvalidOperationException("no context");

    /// <summary>Takes ownership of a freshly created native resource of context.</summary>
    protected void Attach(CudaContextHandle context, IntPtr value)
    {
        bool added = false;
        context.DangerousAddRef(ref added);
        _context = context;
        SetHandle(value);
    }

    protected sealed override bool ReleaseHandle()
    {
        var context = _context!;
        try
        {
            return CudaCurrentContext.TrySet(context.Api, context.DangerousGetHandle()) && Free(context.Api, handle);
        }
        finally
        {
            context.DangerousRelease();
        }
    }

    protected abstract bool Free(CudaDriverApi api, IntPtr value);
}

internal sealed class CudaDeviceMemoryHandle : CudaContextResource
{
    public ulong Pointer => (ulong)DangerousGetHandle();

    public static unsafe CudaDeviceMemoryHandle Allocate(CudaContextHandle context, long bytes)
    {
        var api = context.Api;
        var memory = new CudaDeviceMemoryHandle();
        ulong pointer;
        api.ThrowIfFailed(api.cuMemAlloc(&pointer, (nuint)bytes));
        memory.Attach(context, (IntPtr)pointer);
        return memory;
    }

    protected override unsafe bool Free(CudaDriverApi api, IntPtr value) => api.cuMemFree((ulong)value) == CudaDriverApi.Success;
}

/// <summary>Page-locked host memory: the only kind the DMA engines copy from asynchronously.</summary>
internal sealed class CudaPinnedMemoryHandle : CudaContextResource
{
    public long Bytes { get; private set; }
    public unsafe byte* Pointer => (byte*)DangerousGetHandle();

    public static unsafe CudaPinnedMemoryHandle Allocate(CudaContextHandle context, long bytes)
    {
        var api = context.Api;
        var memory = new CudaPinnedMemoryHandle();
        void* pointer;
        api.ThrowIfFailed(api.cuMemAllocHost(&pointer, (nuint)bytes));
        memory.Attach(context, (IntPtr)pointer);
        memory.Bytes = bytes;
        return memory;
    }

    protected override unsafe bool Free(CudaDriverApi api, IntPtr value) => api.cuMemFreeHost((void*)value) == CudaDriverApi.Success;
}

internal sealed class CudaStreamHandle : CudaContextResource
{
    public static unsafe CudaStreamHandle Create(CudaContextHandle context, uint flags)
    {
        var api = context.Api;
        var stream = new CudaStreamHandle();
        IntPtr raw;
        api.ThrowIfFailed(api.cuStreamCreate(&raw, flags));
        stream.Attach(context, raw);
        return stream;
    }

    protected override unsafe bool Free(CudaDriverApi api, IntPtr value) => api.cuStreamDestroy(value) == CudaDriverApi.Success;
}

internal sealed class CudaEventHandle : CudaContextResource
{
    public static unsafe CudaEventHandle Create(CudaContextHandle context, uint flags)
    {
        var api = context.Api;
        var cudaEvent = new CudaEventHandle();
        IntPtr raw;
        api.ThrowIfFailed(api.cuEventCreate(&raw, flags));
        cudaEvent.Attach(context, raw);
        return cudaEvent;
    }

    protected override unsafe bool Free(CudaDriverApi api, IntPtr value) => api.cuEventDestroy(value) == CudaDriverApi.Success;
}

internal sealed class CudaModuleHandle : CudaContextResource
{
    /// <summary>Loads a PTX (NUL-terminated) or CUBIN image; the driver JIT-compiles PTX for the device.</summary>
    public static unsafe CudaModuleHandle Load(CudaContextHandle context, byte[] image)
    {
        var api = context.Api;
        var module = new CudaModuleHandle();
        IntPtr raw;
        fixed (byte* data = image) api.ThrowIfFailed(api.cuModuleLoadData(&raw, data));
        module.Attach(context, raw);
        return module;
    }

    /// <summary>The kernel's function handle, or zero when the module has no kernel of that name.</summary>
    public unsafe IntPtr TryGetFunction(string name)
    {
        var api = Api;
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        IntPtr function;
        int status;
        fixed (byte* p = utf8) status = api.cuModuleGetFunction(&function, DangerousGetHandle(), p);
        if (status == CudaDriverApi.ErrorNotFound) return IntPtr.Zero;
        api.ThrowIfFailed(status, $"cuModuleGetFunction(\"{name}\")");
        return function;
    }

    protected override unsafe bool Free(CudaDriverApi api, IntPtr value) => api.cuModuleUnload(value) == CudaDriverApi.Success;
}

/// <summary>An NVRTC program (source plus, after compiling, its log and image).</summary>
internal sealed class NvrtcProgramHandle : SafeHandle
{
    private readonly NvrtcApi _api;

    private NvrtcProgramHandle(NvrtcApi api) : base(IntPtr.Zero, ownsHandle: true) => _api = api;

    public override bool IsInvalid => handle == IntPtr.Zero;

    public static unsafe NvrtcProgramHandle Create(NvrtcApi api, string source, string name)
    {
        var program = new NvrtcProgramHandle(api);
        byte[] src = System.Text.Encoding.UTF8.GetBytes(source + "\0");
        byte[] programName = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        IntPtr raw;
        fixed (byte* s = src)
        fixed (byte* n = programName)
            api.ThrowIfFailed(api.nvrtcCreateProgram(&raw, s, n, 0, null, null));
        program.SetHandle(raw);
        return program;
    }

    protected override unsafe bool ReleaseHandle()
    {
        IntPtr raw = handle;
        return _api.nvrtcDestroyProgram(&raw) == NvrtcApi.Success;
    }
}
