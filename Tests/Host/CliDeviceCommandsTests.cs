using System.Text.Json;
using IlgpuVae.Host.CommandLine;
using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Host;

/// <summary>The device-facing commands: devices on this machine's real backends; check and bench on the CPU accelerator.</summary>
[TestClass]
public sealed class CliDeviceCommandsTests
{
    [TestMethod]
    public void CheckPrintsATableAndPassesOnTheCpu()
    {
        var result = CliRunner.Run("check", "--device", "cpu", "--seed", "5");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Out + result.Error);
        StringAssert.Contains(result.Out, "device cpu:");
        StringAssert.Contains(result.Out, "PASS");
        StringAssert.Matches(result.Out, new System.Text.RegularExpressions.Regex(@"\n\d+ passed, 0 failed\n"));
        Assert.IsFalse(result.Out.Contains("FAIL"));
    }

    [TestMethod]
    public void BenchPrintsJsonLinesForEveryGemmShapeAndTraining()
    {
        var result = CliRunner.Run("bench", "--device", "cpu", "--repeats", "1", "--steps", "3", "--batch-size", "32", "--warmup", "0", "--json");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var gemms = lines.Where(l => l.GetProperty("type").GetString() == "gemm").ToArray();
        Assert.AreEqual(11, gemms.Length, "every GEMM of a training step of the default VAE");
        Assert.IsTrue(gemms.Any(g => g.GetProperty("m").GetInt32() == 128 && g.GetProperty("n").GetInt32() == 400 && g.GetProperty("k").GetInt32() == 784));
        foreach (var g in gemms) Assert.IsGreaterThan(0.0, g.GetProperty("gflops").GetDouble());
        var training = lines.Single(l => l.GetProperty("type").GetString() == "training");
        Assert.AreEqual(32, training.GetProperty("batch_size").GetInt32());
        Assert.IsFalse(lines.Any(l => l.GetProperty("type").GetString() == "gemm_vs_cublas"), "cuBLAS is compared (and loaded) on CUDA devices only");
        Assert.IsGreaterThan(0.0, training.GetProperty("samples_per_s").GetDouble());
    }

    [TestMethod]
    public void DevicesListsEveryBackendWhatAutoPicksAndWhyADeviceIsUnusable()
    {
        var result = CliRunner.Run("devices");
        Assert.AreEqual(ExitCodes.Ok, result.ExitCode, result.Error);
        StringAssert.Contains(result.Out, "CPU: the managed SIMD backend\n  cpu ");
        StringAssert.Contains(result.Out, "\n  ilgpu-cpu ");
        StringAssert.Contains(result.Out, "slow by design");
        StringAssert.Contains(result.Out, "CUDA: through ILGPU\n");
        StringAssert.Contains(result.Out, "OpenCL: through ILGPU\n");
        StringAssert.Contains(result.Out, $"\nauto: {Devices.ResolveAuto()}\n");
        foreach (var device in Devices.Provider(BackendKind.OpenCL).Enumerate(out _).Where(d => !d.IsUsable))
        {
            StringAssert.Contains(result.Out, $"\n  {device.Specifier,-11} {device.Name} ");
            StringAssert.Contains(result.Out, $"unusable: {device.UnusableReason}\n");
        }
    }

    [TestMethod]
    public void DevicesOnThisMachineShowsPoclUnusableAndAutoOnCpu()
    {
        var opencl = Devices.Provider(BackendKind.OpenCL).Enumerate(out _);
        if (!opencl.Any(d => d.Platform.Contains("Portable Computing Language", StringComparison.Ordinal) && !d.IsUsable)
            || opencl.Any(d => d.IsUsable) || Devices.Provider(BackendKind.Cuda).Enumerate(out _).Count > 0)
            Assert.Inconclusive("not a machine whose only OpenCL device is Debian 12's PoCL and that has no CUDA device");
        var result = CliRunner.Run("devices");
        StringAssert.Matches(result.Out, new System.Text.RegularExpressions.Regex(@"\n  opencl:0 +pthread-.*\[Portable Computing Language, ILGPU\] CPU, "));
        StringAssert.Contains(result.Out, "unusable: OpenCL 3.0 without generic address space");
        StringAssert.Contains(result.Out, "ILGPU needs OpenCL 2.0+, or 3.0 with generic address space");
        StringAssert.Contains(result.Out, "\nauto: cpu\n");

        var check = CliRunner.Run("check", "--device", "opencl");
        Assert.AreEqual(ExitCodes.Failure, check.ExitCode, check.Out);
        StringAssert.Contains(check.Error, "device 'opencl': no OpenCL device can be used: opencl:0 (pthread-");
        StringAssert.Contains(check.Error, "without generic address space");
    }

    [TestMethod]
    public void DeviceHelpNamesEveryBackend()
    {
        var help = CliRunner.Run("train", "--help");
        Assert.AreEqual(ExitCodes.Ok, help.ExitCode);
        StringAssert.Contains(help.Out, "cpu, ilgpu-cpu, cuda[:N], opencl[:N] or auto");
        var devices = CliRunner.Run("devices", "--help");
        StringAssert.Contains(devices.Out, "ilgpu-cpu");
        StringAssert.Contains(devices.Out, "generic");
    }

    [TestMethod]
    public void UnavailableDeviceIsExitCode1WithTheReason()
    {
        // A device number past the last CPU device is never present, whatever the machine.
        var result = CliRunner.Run("check", "--device", "cpu:5");
        Assert.AreEqual(ExitCodes.Failure, result.ExitCode);
        StringAssert.Contains(result.Error, "cpu:5");
    }
}
