using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cuda;

namespace IlgpuVae.Tests.Cuda;

/// <summary>
/// NVRTC for the tests. It needs no GPU, so these tests run everywhere NVRTC is installed; where it is
/// missing they are Inconclusive on a developer machine but fail in CI, which installs libnvrtc11.2.
/// </summary>
internal static class NvrtcTestCompiler
{
    public static NvrtcApi Require()
    {
        var nvrtc = NvrtcApi.TryGet(out string reason);
        if (nvrtc is not null) return nvrtc;
        if (IsCi) Assert.Fail($"NVRTC is required in CI: {reason}");
        Assert.Inconclusive($"NVRTC is not installed: {reason}");
        throw new InvalidOperationException("unreachable");
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>What a CUDA GPU of that generation reports (1024 threads, 48 KiB static shared memory a block).</summary>
    public static KernelDeviceLimits GpuLimits(int architecture) =>
        new(MaxWorkGroupSize: 1024, LocalMemoryBytes: 48 * 1024,
            ComputeUnits: architecture switch { 70 => 80, 80 => 108, _ => 132 }, IsGpu: true, SimdWidth: 32);

    /// <summary>A fresh empty directory for a cache under test, removed by the caller.</summary>
    public static string TemporaryDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "ilgpu-vae-tests", "cuda-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
