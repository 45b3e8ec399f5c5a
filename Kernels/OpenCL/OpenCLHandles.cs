using Microsoft.Win32.SafeHandles;

namespace IlgpuVae.Kernels.OpenCL;

// One SafeHandle a reference-counted OpenCL object, so every object is released exactly once, also
// when an exception or a forgotten Dispose leaves it to the finalizer. Platform and device ids are not
// reference-counted (root devices) and stay plain IntPtr. The parameterless constructors are for the
// interop marshaller, which creates the handle of a returned object.

internal sealed class ClContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ClContextHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseContext(handle) == 0;
}

internal sealed class ClQueueHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ClQueueHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseCommandQueue(handle) == 0;
}

internal sealed class ClProgramHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ClProgramHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseProgram(handle) == 0;
}

internal sealed class ClKernelHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ClKernelHandle() : base(ownsHandle: true) { }
    /// <summary>Takes ownership of a kernel that clCreateKernelsInProgram returned in an array.</summary>
    public ClKernelHandle(IntPtr kernel) : base(ownsHandle: true) => SetHandle(kernel);
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseKernel(handle) == 0;
}

internal sealed class ClMemHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ClMemHandle() : base(ownsHandle: true) { }
    protected override bool ReleaseHandle() => OpenCLNative.clReleaseMemObject(handle) == 0;
}
