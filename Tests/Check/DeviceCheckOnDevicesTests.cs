using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Conformance;

namespace IlgpuVae.Tests.Check;

/// <summary>
/// `ilgpu-vae check` on the real hand-written backends (OpenCL C and NVRTC, which ILGPU replaces and which
/// only their tests still open): every check green. OpenCL runs on PoCL wherever it is installed and must
/// run in CI; CUDA needs a GPU and is Inconclusive without one.
/// </summary>
[TestClass]
public sealed class DeviceCheckOnDevicesTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("opencl", true)]
    [DataRow("cuda", false)]
    public void EveryCheckPassesOnTheDevice(string specifier, bool requiredInCi)
    {
        Accelerator device;
        try
        {
            device = Devices.OpenHandWritten(specifier);
        }
        catch (DeviceUnavailableException e)
        {
            if (requiredInCi && IsCi) Assert.Fail($"{specifier} is required in CI: {e.Message}");
            Assert.Inconclusive(e.Message);
            return;
        }
        using (device)
        {
            var results = DeviceCheck.Run(device, seed: 7);
            string table = DeviceCheck.FormatTable(results);
            TestContext.WriteLine($"{device}\n{table}");
            Assert.IsTrue(results.Count >= 40, table);
            Assert.IsTrue(results.All(r => r.Passed), $"{device}\n{table}");
        }
    }

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
