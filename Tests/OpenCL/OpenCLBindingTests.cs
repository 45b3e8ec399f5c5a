using System.Diagnostics;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.OpenCL;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>The OpenCL binding on the installed platform (PoCL in CI): devices, errors, build logs, programs.</summary>
[TestClass]
public sealed class OpenCLBindingTests
{
    [TestMethod]
    public void EnumeratesEveryDeviceWithItsProperties()
    {
        var devices = Devices.HandWrittenProvider(BackendKind.OpenCL).Enumerate(out string? reason);
        if (devices.Count == 0)
        {
            if (Conformance.KernelConformance.IsCi) Assert.Fail($"OpenCL is required in CI: {reason}");
            Assert.Inconclusive(reason ?? "no OpenCL device");
        }
        Assert.IsNull(reason);
        for (int i = 0; i < devices.Count; i++)
        {
            var d = devices[i];
            Assert.AreEqual(BackendKind.OpenCL, d.Kind);
            Assert.AreEqual(i, d.Index);
            Assert.AreEqual($"opencl:{i}", d.Specifier);
            Assert.IsFalse(string.IsNullOrWhiteSpace(d.Name), "device name");
            Assert.IsFalse(string.IsNullOrWhiteSpace(d.Platform), "platform name");
            Assert.IsTrue(d.MemoryBytes > 0, $"memory of {d.Name}");
            Assert.IsTrue(d.ComputeUnits > 0, $"compute units of {d.Name}");
            StringAssert.Contains(d.Details, "OpenCL C");
        }
        // PoCL's pthread device is a CPU: CL_DEVICE_TYPE must not make it a GPU (auto must not pick it).
        foreach (var pocl in devices.Where(d => d.Platform.Contains("Portable Computing Language", StringComparison.Ordinal)))
            Assert.IsFalse(pocl.IsGpu, $"{pocl.Name} is PoCL's CPU device");

        // The same devices clinfo reports, where clinfo is installed.
        var clinfoNames = ClinfoDeviceNames();
        if (clinfoNames is not null) CollectionAssert.AreEqual(clinfoNames, devices.Select(d => d.Name).ToArray());
    }

    [TestMethod]
    public void OpensTheDeviceASpecifierNames()
    {
        using var acc = OpenCLTestDevice.Open();
        Assert.AreEqual(BackendKind.OpenCL, acc.Kind);
        Assert.AreEqual("opencl:0", acc.Specifier);
        Assert.IsTrue(acc.Limits.MaxWorkGroupSize >= 1 && acc.Limits.LocalMemoryBytes > 0);
        int count = Devices.HandWrittenProvider(BackendKind.OpenCL).Enumerate(out _).Count;
        var e = Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.OpenHandWritten($"opencl:{count}"));
        StringAssert.Contains(e.Message, $"{count} device(s)");
    }

    [TestMethod]
    [DataRow(-11, "CL_BUILD_PROGRAM_FAILURE")]
    [DataRow(-54, "CL_INVALID_WORK_GROUP_SIZE")]
    [DataRow(-61, "CL_INVALID_BUFFER_SIZE")]
    [DataRow(-1001, "CL_PLATFORM_NOT_FOUND_KHR")]
    [DataRow(-5, "CL_OUT_OF_RESOURCES")]
    [DataRow(-9999, "CL_UNKNOWN_ERROR")]
    public void ErrorCodesHaveTheirClNames(int status, string name)
    {
        Assert.AreEqual(name, OpenCLErrors.Name(status));
        var e = new OpenCLException("clFinish", status);
        StringAssert.Contains(e.Message, $"clFinish failed: {name} ({status})");
    }

    [TestMethod]
    public void CheckNamesTheFunctionFromTheCallExpression()
    {
        var e = Assert.ThrowsExactly<OpenCLException>(() => OpenCLErrors.Check(FailWith(-36)));
        Assert.AreEqual("FailWith", e.Call);
        Assert.AreEqual("CL_INVALID_COMMAND_QUEUE", e.ErrorName);
        Assert.AreEqual("clEnqueueReadBuffer", OpenCLErrors.CallName("OpenCLNative.clEnqueueReadBuffer(_queue, memory, True)"));
    }

    private static int FailWith(int status) => status;

    [TestMethod]
    public void ADriverErrorNamesTheCallTheErrorAndTheLaunch()
    {
        using var acc = OpenCLTestDevice.Open();
        using var buffer = acc.Allocate<float>(16);
        acc.Fill(buffer, 1f); // builds the family that holds fill_values
        int tooLarge = checked(acc.Limits.MaxWorkGroupSize * 2);
        var e = Assert.ThrowsExactly<OpenCLException>(() => acc.Launch("fill_values",
            [KernelArg.Int(16), KernelArg.Float(2f), KernelArg.Buffer(buffer), KernelArg.Int(0)], tooLarge, 1, tooLarge, 1));
        Assert.AreEqual("clEnqueueNDRangeKernel", e.Call);
        Assert.AreEqual("CL_INVALID_WORK_GROUP_SIZE", e.ErrorName);
        StringAssert.Contains(e.Message, "fill_values");
        // The queue is still usable after a rejected launch.
        CollectionAssert.AreEqual(Enumerable.Repeat(1f, 16).ToArray(), acc.Download(buffer.View));
    }

    [TestMethod]
    public void ABrokenProgramFailsWithItsBuildLog()
    {
        using var acc = OpenCLTestDevice.Open();
        const string source = "KERNEL void broken_probe(GLOBAL float* x) { x[0] = undeclared_identifier_42; }\n";
        var e = Assert.ThrowsExactly<OpenCLException>(() => acc.BuildProgram("broken", source, new Dictionary<string, string>()));
        Assert.AreEqual("clBuildProgram", e.Call);
        Assert.AreEqual("CL_BUILD_PROGRAM_FAILURE", e.ErrorName);
        Assert.IsNotNull(e.BuildLog);
        StringAssert.Contains(e.BuildLog, "undeclared_identifier_42");
        StringAssert.Contains(e.Message, "undeclared_identifier_42");
        StringAssert.Contains(e.Message, "'broken'");
    }

    [TestMethod]
    public void AnUnbuiltKernelIsAClearError()
    {
        using var acc = OpenCLTestDevice.Open();
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => acc.Launch("no_such_kernel", [], 1, 1, 1, 1));
        StringAssert.Contains(e.Message, "no_such_kernel");
    }

    [TestMethod]
    public void TheTuningIsFixedOnceAFamilyIsBuilt()
    {
        using var acc = OpenCLTestDevice.Open();
        var gpu = acc.Limits with { IsGpu = true };
        acc.TuningLimits = gpu;
        Assert.AreEqual(KernelTuning.For(gpu), acc.Tuning);
        using var buffer = acc.Allocate<float>(4);
        acc.Fill(buffer, 0f);
        Assert.ThrowsExactly<InvalidOperationException>(() => acc.TuningLimits = acc.Limits);
    }

    [TestMethod]
    public void DefinesReachTheCompiler()
    {
        using var acc = OpenCLTestDevice.Open();
        const string source = "KERNEL void define_probe(GLOBAL float* out, int offset) { out[offset + GLOBAL_ID(0)] = PROBE_VALUE * (float)GLOBAL_ID(0); }\n";
        acc.BuildProgram("define_probe", source, new Dictionary<string, string> { ["PROBE_VALUE"] = "2.5f" });
        using var output = acc.Upload<float>(new float[9]);
        acc.Launch("define_probe", [KernelArg.Buffer(output), KernelArg.Int(1)], 8, 1, 8, 1);
        CollectionAssert.AreEqual(new[] { 0f, 0f, 2.5f, 5f, 7.5f, 10f, 12.5f, 15f, 17.5f }, acc.Download(output.View));
    }

    [TestMethod]
    public void AMissingLoaderIsAReasonNotAnException()
    {
        bool loaded = OpenCLNative.TryLoadFrom(["libNoSuchOpenCLLoader.so.9"], out IntPtr handle, out string reason);
        Assert.IsFalse(loaded);
        Assert.AreEqual(IntPtr.Zero, handle);
        StringAssert.Contains(reason, "libNoSuchOpenCLLoader.so.9");
        StringAssert.Contains(reason, "ocl-icd-libopencl1");
    }

    [TestMethod]
    public void EveryKernelFamilyCompiles()
    {
        using var acc = OpenCLTestDevice.Open();
        Assert.IsTrue(KernelSources.Families.Count >= 7, $"families: {string.Join(", ", KernelSources.Families)}");
        foreach (string family in KernelSources.Families) acc.EnsureBuilt(family);
    }

    /// <summary>Names of "Device #N: name" lines of `clinfo -l`, or null where clinfo is not installed.</summary>
    private static string[]? ClinfoDeviceNames()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("clinfo", "-l") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) return null;
            return output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("Device #", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).ToArray();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
