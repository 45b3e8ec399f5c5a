using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Conformance;

namespace IlgpuVae.Tests.Check;

/// <summary>
/// `ilgpu-vae check` on the ILGPU devices: every check green, the device's own Philox blocks included.
/// ILGPU's CPU accelerator runs everywhere and must pass in CI; CUDA and OpenCL need a device ILGPU can
/// use and are Inconclusive without one (Debian 12's PoCL is not one: no generic address space).
/// </summary>
[TestClass]
public sealed class DeviceCheckOnDevicesTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("ilgpu-cpu", true)]
    [DataRow("cuda", false)]
    [DataRow("opencl", false)]
    public void EveryCheckPassesOnTheDevice(string specifier, bool requiredInCi)
    {
        Accelerator device;
        try
        {
            device = Devices.Open(specifier);
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
            Assert.IsTrue(results.Any(r => r.Check == "philox known answers (device)"), $"the ILGPU kernels' own Philox blocks are checked\n{table}");
            Assert.IsTrue(results.All(r => r.Passed), $"{device}\n{table}");
        }
    }

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
