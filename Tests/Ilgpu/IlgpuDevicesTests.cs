using ILGPU.Backends.OpenCL;
using ILGPU.Runtime.OpenCL;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The device registry on ILGPU, against the real ILGPU, the real ICD loader and PoCL: every OpenCL
/// device is listed, ILGPU's rule says which it can use and why not, `--device` specifiers reach
/// the ILGPU backends, and `auto` falls back to cpu on a machine without a usable GPU.
/// </summary>
[TestClass]
public sealed class IlgpuDevicesTests
{
    /// <summary>The OpenCL devices, or Inconclusive without any (a failure in CI, which installs PoCL).</summary>
    private static IReadOnlyList<IlgpuDeviceEntry> OpenCLDevices()
    {
        var devices = IlgpuDevices.ListOpenCL(out string? reason);
        if (devices.Count == 0)
        {
            if (KernelConformance.IsCi) Assert.Fail($"OpenCL (PoCL) is required in CI: {reason}");
            Assert.Inconclusive($"no OpenCL device: {reason}");
        }
        return devices;
    }

    [TestMethod]
    public void EveryOpenCLDeviceIsListedAndUnusableOnesSayWhy()
    {
        foreach (var entry in OpenCLDevices())
        {
            var device = (CLDevice)entry.Device;
            bool ilgpuTakesIt = device.CLStdVersion >= CLBackend.MinimumVersion && device.Capabilities.GenericAddressSpace;
            Assert.AreEqual(ilgpuTakesIt, entry.IsUsable, $"{entry.Specifier} {device.Name}: {entry.UnusableReason}");
            Assert.AreEqual($"opencl:{entry.Index}", entry.Specifier);
            if (!entry.IsUsable) StringAssert.Contains(entry.UnusableReason, IlgpuDevices.OpenCLRequirement);
        }
    }

    [TestMethod]
    public void PoclWithoutGenericAddressSpaceIsUnusableForThatReason()
    {
        var pocl = OpenCLDevices().FirstOrDefault(e => ((CLDevice)e.Device).PlatformName.Contains("Portable Computing Language", StringComparison.Ordinal));
        if (pocl is null) Assert.Inconclusive("no PoCL device");
        if (((CLDevice)pocl.Device).Capabilities.GenericAddressSpace) Assert.Inconclusive("this PoCL has generic address space (newer than Debian 12's 3.1)");
        Assert.IsFalse(pocl.IsUsable);
        StringAssert.Contains(pocl.UnusableReason, "without generic address space");

        var listed = Devices.Provider(BackendKind.OpenCL).Enumerate(out _).Single(d => d.Index == pocl.Index);
        Assert.AreEqual(pocl.UnusableReason, listed.UnusableReason);
        Assert.AreEqual("CPU", listed.TypeName);
        Assert.IsFalse(listed.IsGpu);
    }

    [TestMethod]
    public void OpeningOpenCLWithoutAUsableDeviceNamesWhy()
    {
        var devices = OpenCLDevices();
        if (devices.Any(d => d.IsUsable)) Assert.Inconclusive("this machine has an OpenCL device that ILGPU can use");
        var bare = Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.Open("opencl"));
        StringAssert.Contains(bare.Message, "no OpenCL device can be used");
        StringAssert.Contains(bare.Message, devices[0].UnusableReason!);
        var numbered = Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.Open("opencl:0"));
        StringAssert.Contains(numbered.Message, "opencl:0");
        StringAssert.Contains(numbered.Message, devices[0].UnusableReason!);
        var past = Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.Open($"opencl:{devices.Count}"));
        StringAssert.Contains(past.Message, $"numbered 0 to {devices.Count - 1}");
    }

    [TestMethod]
    public void CudaWithoutADriverOrGpuIsAReason()
    {
        var devices = IlgpuDevices.ListCuda(out string? reason);
        if (devices.Count > 0) Assert.Inconclusive($"this machine has CUDA devices: {string.Join(", ", devices.Select(d => d.Device.Name))}");
        Assert.IsFalse(string.IsNullOrWhiteSpace(reason));
        if (!IlgpuNativeLibraries.TryLoad("cuda", out _)) StringAssert.Contains(reason, "libcuda.so.1 not found");
        var error = Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.Open("cuda"));
        StringAssert.Contains(error.Message, reason!);
        Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.Open("cuda:1"));
    }

    [TestMethod]
    public void AutoTakesCpuWithoutAUsableGpu()
    {
        bool usableGpu = IlgpuDevices.ListCuda(out _).Any(d => d.IsUsable)
            || Devices.Provider(BackendKind.OpenCL).Enumerate(out _).Any(d => d.IsGpu && d.IsUsable);
        if (usableGpu) Assert.Inconclusive("this machine has a GPU that ILGPU can use");
        Assert.AreEqual("cpu", Devices.ResolveAuto());
        using var auto = Devices.Open("auto");
        Assert.IsInstanceOfType<CpuAccelerator>(auto);
    }

    [TestMethod]
    public void IlgpuCpuIsListedAndOpensIlgpusCpuAccelerator()
    {
        var listed = Devices.Provider(BackendKind.IlgpuCpu).Enumerate(out string? reason);
        Assert.IsNull(reason);
        Assert.AreEqual("ilgpu-cpu", listed.Single().Specifier);
        StringAssert.Contains(listed[0].Details, "slow by design");
        using var accelerator = Devices.Open("ilgpu-cpu");
        Assert.IsInstanceOfType<IlgpuAccelerator>(accelerator);
        Assert.AreEqual(BackendKind.IlgpuCpu, accelerator.Kind);
        Assert.AreEqual("ilgpu-cpu", accelerator.Specifier);
        Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.Open("ilgpu-cpu:1"));
    }

    [TestMethod]
    [DataRow("gpu")]
    [DataRow("ilgpu")]
    [DataRow("opencl:x")]
    public void AMalformedSpecifierListsTheForms(string specifier)
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Devices.Open(specifier));
        StringAssert.Contains(error.Message, Devices.SpecifierForms);
    }

    [TestMethod]
    public void TheRegistryListsTheCpuBackendAndTheIlgpuBackends()
        => CollectionAssert.AreEqual(new[] { BackendKind.Cpu, BackendKind.IlgpuCpu, BackendKind.Cuda, BackendKind.OpenCL },
            Devices.Providers.Select(p => p.Kind).ToArray());

    [TestMethod]
    public void DevicesOfTheOtherBackendsTakeTheirTypeFromIsGpu()
    {
        Assert.AreEqual("GPU", new DeviceInfo(BackendKind.Cuda, 0, "cuda:0", "H100", "CUDA", 1, 1, true, "").TypeName);
        Assert.AreEqual("CPU", new DeviceInfo(BackendKind.Cpu, 0, "cpu", "CPU accelerator", "managed .NET", 1, 1, false, "").TypeName);
        foreach (var kind in new[] { BackendKind.Cpu, BackendKind.IlgpuCpu })
        foreach (var device in Devices.Provider(kind).Enumerate(out _))
            Assert.AreEqual("CPU", device.TypeName, device.Specifier);
    }

    [TestMethod]
    [DataRow(CLDeviceType.CL_DEVICE_TYPE_CPU, "CPU")]
    [DataRow(CLDeviceType.CL_DEVICE_TYPE_GPU, "GPU")]
    [DataRow(CLDeviceType.CL_DEVICE_TYPE_GPU | CLDeviceType.CL_DEVICE_TYPE_ACCELERATOR, "GPU+accelerator")]
    [DataRow(CLDeviceType.CL_DEVICE_TYPE_CUSTOM, "custom")]
    [DataRow(CLDeviceType.CL_DEVICE_TYPE_DEFAULT, "unknown type 0x1")]
    public void OpenCLDeviceTypesAreNamed(CLDeviceType type, string expected)
        => Assert.AreEqual(expected, IlgpuOpenCLProvider.TypeName(type));
}
