using System.Runtime.CompilerServices;
using System.Text;
using static IlgpuVae.Kernels.OpenCL.OpenCLNative;

namespace IlgpuVae.Kernels.OpenCL;

/// <summary>
/// One OpenCL device: a context, one in-order command queue, buffers, and the kernel families compiled
/// from the shared sources (prelude_opencl.h + defines + family source) on first use. The op mapping
/// itself lives in KernelAcceleratorOps.cs and is shared with CUDA.
/// </summary>
public sealed unsafe class OpenCLAccelerator : KernelAccelerator
{
    private readonly OpenCLDeviceEntry _device;
    private readonly ClContextHandle _context;
    private readonly ClQueueHandle _queue;
    private readonly List<ClProgramHandle> _programs = [];
    private readonly Dictionary<string, (ClKernelHandle Kernel, string Family)> _kernels = new(StringComparer.Ordinal);
    // Kernel objects carry their arguments, so setting them and enqueueing must not interleave.
    private readonly Lock _launchLock = new();

    internal OpenCLAccelerator(OpenCLDeviceEntry device)
    {
        _device = device;
        IntPtr id = device.Device;
        _context = clCreateContext(null, 1, &id, IntPtr.Zero, IntPtr.Zero, out int status);
        OpenCLErrors.Check(status, nameof(clCreateContext));
        _queue = clCreateCommandQueue(_context, id, 0, out status);
        if (status != 0)
        {
            _context.Dispose();
            OpenCLErrors.Check(status, nameof(clCreateCommandQueue));
        }
    }

    public override BackendKind Kind => BackendKind.OpenCL;
    public override string Name => $"{_device.Name} ({_device.PlatformName}, {_device.TypeName})";
    public override string Specifier => $"opencl:{_device.Index}";
    public override KernelDeviceLimits Limits => _device.Limits;

    /// <summary>The options every family is built with: OpenCL C 1.2, and no fast-math flags.</summary>
    internal const string BuildOptions = "-cl-std=CL1.2";

    // ---------------------------------------------------------------- memory

    protected override DeviceBuffer<T> AllocateCore<T>(int length)
    {
        // OpenCL has no zero-sized buffers; an empty view still needs a valid cl_mem to pass around.
        long bytes = Math.Max(1L, (long)length * Unsafe.SizeOf<T>());
        var memory = clCreateBuffer(_context, MemReadWrite, (nuint)bytes, IntPtr.Zero, out int status);
        if (status != 0)
        {
            memory.Dispose();
            throw new OpenCLException(nameof(clCreateBuffer), status, detail: $"allocating {bytes} bytes on {Specifier}");
        }
        return new OpenCLBuffer<T>(this, length, memory);
    }

    protected override void CopyFromHostCore<T>(ReadOnlySpan<T> source, DeviceView<T> destination)
    {
        // Blocking: the span is only valid during this call.
        fixed (T* pointer = source)
            OpenCLErrors.Check(clEnqueueWriteBuffer(_queue, Memory(destination), True, ByteOffset(destination),
                (nuint)((long)source.Length * sizeof(T)), pointer, 0, null, null));
    }

    protected override void CopyToHostCore<T>(DeviceView<T> source, Span<T> destination)
    {
        fixed (T* pointer = destination)
            OpenCLErrors.Check(clEnqueueReadBuffer(_queue, Memory(source), True, ByteOffset(source),
                (nuint)((long)destination.Length * sizeof(T)), pointer, 0, null, null));
    }

    protected override void CopyCore<T>(DeviceView<T> source, DeviceView<T> destination)
    {
        bool overlap = ReferenceEquals(source.Buffer, destination.Buffer)
            && source.Offset < destination.Offset + destination.Length && destination.Offset < source.Offset + source.Length;
        if (overlap)
        {
            // clEnqueueCopyBuffer rejects overlapping ranges (CL_MEM_COPY_OVERLAP); go through the host.
            var staging = new T[source.Length];
            CopyToHostCore(source, staging);
            CopyFromHostCore<T>(staging, destination);
            return;
        }
        OpenCLErrors.Check(clEnqueueCopyBuffer(_queue, Memory(source), Memory(destination), ByteOffset(source), ByteOffset(destination),
            (nuint)((long)source.Length * sizeof(T)), 0, null, null));
    }

    protected override void SynchronizeCore() => OpenCLErrors.Check(clFinish(_queue));

    private static ClMemHandle Memory<T>(DeviceView<T> view) where T : unmanaged => ((IOpenCLBuffer)view.Buffer!).Memory;
    private static nuint ByteOffset<T>(DeviceView<T> view) where T : unmanaged => (nuint)((long)view.Offset * sizeof(T));

    // ---------------------------------------------------------------- programs and launches

    protected internal override void BuildProgram(string family, string source, IReadOnlyDictionary<string, string> defines)
    {
        ThrowIfDisposed();
        string text = ComposeProgram(source, defines);
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        ClProgramHandle program;
        int status;
        fixed (byte* chars = utf8)
        {
            byte* strings = chars;
            nuint length = (nuint)utf8.Length;
            program = clCreateProgramWithSource(_context, 1, &strings, &length, out status);
        }
        if (status != 0)
        {
            program.Dispose();
            throw new OpenCLException(nameof(clCreateProgramWithSource), status, detail: $"for kernel family '{family}'");
        }
        IntPtr device = _device.Device;
        byte[] options = Encoding.ASCII.GetBytes(BuildOptions + "\0");
        fixed (byte* o = options) status = clBuildProgram(program, 1, &device, o, IntPtr.Zero, IntPtr.Zero);
        if (status != 0)
        {
            string log = BuildLog(program);
            program.Dispose();
            throw new OpenCLException(nameof(clBuildProgram), status, log, $"for kernel family '{family}' on {Specifier} ({_device.Name})");
        }
        var kernels = CreateKernels(program).Select(k => (Name: KernelName(k), Kernel: k)).ToList();
        lock (_launchLock)
        {
            _programs.Add(program);
            foreach (var (name, kernel) in kernels)
            {
                if (_kernels.TryGetValue(name, out var existing))
                {
                    if (existing.Family != family)
                        throw new InvalidOperationException($"kernel '{name}' of family '{family}' is already defined by family '{existing.Family}'; kernel names must be unique");
                    // A rebuild of the family (new defines): launches already enqueued retain the old kernel.
                    existing.Kernel.Dispose();
                }
                _kernels[name] = (kernel, family);
            }
        }
    }

    /// <summary>The prelude, one #define line per compile-time parameter, then the family source.</summary>
    internal static string ComposeProgram(string source, IReadOnlyDictionary<string, string> defines)
    {
        var builder = new StringBuilder(KernelSources.Load("prelude_opencl.h")).Append('\n');
        foreach (var (name, value) in defines.OrderBy(d => d.Key, StringComparer.Ordinal))
            builder.Append("#define ").Append(name).Append(' ').Append(value).Append('\n');
        return builder.Append(source).ToString();
    }

    private string BuildLog(ClProgramHandle program)
    {
        nuint size = 0;
        if (clGetProgramBuildInfo(program, _device.Device, ProgramBuildLog, 0, null, &size) != 0 || size == 0) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
            if (clGetProgramBuildInfo(program, _device.Device, ProgramBuildLog, size, b, null) != 0) return "(no build log)";
        return OpenCLDevices.Decode(bytes);
    }

    private static List<ClKernelHandle> CreateKernels(ClProgramHandle program)
    {
        uint count = 0;
        OpenCLErrors.Check(clCreateKernelsInProgram(program, 0, null, &count));
        var raw = new IntPtr[count];
        fixed (IntPtr* r = raw) OpenCLErrors.Check(clCreateKernelsInProgram(program, count, r, null));
        return raw.Select(k => new ClKernelHandle(k)).ToList();
    }

    private static string KernelName(ClKernelHandle kernel)
    {
        nuint size = 0;
        OpenCLErrors.Check(clGetKernelInfo(kernel, KernelFunctionName, 0, null, &size));
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) OpenCLErrors.Check(clGetKernelInfo(kernel, KernelFunctionName, size, b, null));
        return OpenCLDevices.Decode(bytes);
    }

    protected internal override int KernelWorkGroupLimit(string kernel)
    {
        lock (_launchLock)
        {
            if (!_kernels.TryGetValue(kernel, out var entry)) return int.MaxValue;
            nuint size = 0;
            int status = clGetKernelWorkGroupInfo(entry.Kernel, _device.Device, CL_KERNEL_WORK_GROUP_SIZE, (nuint)sizeof(nuint), &size, null);
            if (status != 0) throw new OpenCLException(nameof(clGetKernelWorkGroupInfo), status, detail: $"for kernel '{kernel}' on {Specifier}");
            return (int)Math.Min((ulong)size, int.MaxValue);
        }
    }

    protected internal override void Launch(string kernel, ReadOnlySpan<KernelArg> args, int globalX, int globalY, int localX, int localY)
    {
        ThrowIfDisposed();
        var referenced = new List<ClMemHandle>(args.Length);
        lock (_launchLock)
        {
            if (!_kernels.TryGetValue(kernel, out var entry))
                throw new InvalidOperationException($"kernel '{kernel}' is not built on {Specifier} (built: {string.Join(", ", _kernels.Keys.Order())})");
            var handle = entry.Kernel;
            try
            {
                for (int i = 0; i < args.Length; i++)
                {
                    var arg = args[i];
                    int status;
                    if (arg.Kind == KernelArgKind.Buffer)
                    {
                        var memory = ((IOpenCLBuffer)arg.BufferObject!).Memory;
                        // Held from clSetKernelArg until the enqueue, after which the command retains the cl_mem itself.
                        bool added = false;
                        memory.DangerousAddRef(ref added);
                        if (added) referenced.Add(memory);
                        IntPtr value = memory.DangerousGetHandle();
                        status = clSetKernelArg(handle, (uint)i, (nuint)sizeof(IntPtr), &value);
                    }
                    else
                    {
                        uint bits = arg.Bits;
                        status = clSetKernelArg(handle, (uint)i, sizeof(uint), &bits);
                    }
                    if (status != 0) throw new OpenCLException(nameof(clSetKernelArg), status, detail: $"argument {i} of kernel '{kernel}'");
                }
                nuint* global = stackalloc nuint[2] { (nuint)globalX, (nuint)Math.Max(1, globalY) };
                nuint* local = stackalloc nuint[2] { (nuint)localX, (nuint)Math.Max(1, localY) };
                int launch = clEnqueueNDRangeKernel(_queue, handle, 2, null, global, local, 0, null, null);
                if (launch != 0)
                    throw new OpenCLException(nameof(clEnqueueNDRangeKernel), launch,
                        detail: $"launching '{kernel}' with global {globalX}x{globalY}, local {localX}x{localY} on {Specifier}");
            }
            finally
            {
                foreach (var memory in referenced) memory.DangerousRelease();
            }
        }
    }

    // ---------------------------------------------------------------- lifetime

    protected override void DisposeCore()
    {
        // Let enqueued work finish before its kernels and queue go; a failure here has nobody to report to.
        if (!_queue.IsInvalid && !_queue.IsClosed) _ = clFinish(_queue);
        foreach (var (kernel, _) in _kernels.Values) kernel.Dispose();
        _kernels.Clear();
        foreach (var program in _programs) program.Dispose();
        _programs.Clear();
        _queue.Dispose();
        _context.Dispose();
    }
}
