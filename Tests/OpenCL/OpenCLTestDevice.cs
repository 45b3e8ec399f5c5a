using IlgpuVae.Kernels;
using IlgpuVae.Kernels.OpenCL;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// Opens the first OpenCL device for a test. Without one the test is Inconclusive on a developer
/// machine and fails in CI (CI=true), where PoCL is installed and every OpenCL test must run.
/// </summary>
internal static class OpenCLTestDevice
{
    public static OpenCLAccelerator Open()
    {
        try
        {
            return (OpenCLAccelerator)Devices.OpenHandWritten("opencl");
        }
        catch (DeviceUnavailableException e)
        {
            if (KernelConformance.IsCi) Assert.Fail($"OpenCL is required in CI: {e.Message}");
            Assert.Inconclusive(e.Message);
            throw;
        }
    }

    /// <summary>Deterministic test data in [lo, hi).</summary>
    public static float[] Random(int length, int seed, float lo = -1f, float hi = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = lo + (hi - lo) * random.NextSingle();
        return values;
    }
}
