namespace IlgpuVae.Kernels.OpenCL;

/// <summary>The cl_mem behind a buffer, whatever its element type (kernel arguments are untyped).</summary>
internal interface IOpenCLBuffer
{
    ClMemHandle Memory { get; }
}

/// <summary>A device buffer in an OpenCL context. Views pass (this buffer, element offset) to kernels.</summary>
internal sealed class OpenCLBuffer<T> : DeviceBuffer<T>, IOpenCLBuffer where T : unmanaged
{
    public OpenCLBuffer(OpenCLAccelerator accelerator, int length, ClMemHandle memory) : base(accelerator, length) => Memory = memory;

    public ClMemHandle Memory { get; }

    protected override void DisposeCore() => Memory.Dispose();
}
