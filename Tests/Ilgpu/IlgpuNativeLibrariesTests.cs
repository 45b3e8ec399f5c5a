using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using IlgpuVae.Kernels.Ilgpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Ilgpu;

/// <summary>
/// The resolver that maps ILGPU's "OpenCL" and "cuda" imports to libOpenCL.so.1 and libcuda.so.1. The
/// real check: two private copies of the real ILGPU assembly, each in a load context of its own (a
/// resolver belongs to one assembly), list the OpenCL devices of the real ICD loader and PoCL; the copy
/// without the resolver sees none, the copy with it sees PoCL.
/// </summary>
[TestClass]
public sealed class IlgpuNativeLibrariesTests
{
    [TestMethod]
    public void TheUnversionedDriverNamesFallBackToTheirSonames()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("the mapping is for Linux sonames");
        Assert.AreEqual("libcuda.so.1", IlgpuNativeLibraries.FallbackNames("cuda")[0]);
        CollectionAssert.AreEqual(new[] { "libOpenCL.so.1" }, IlgpuNativeLibraries.FallbackNames("OpenCL").ToArray());
        CollectionAssert.AreEqual(new[] { "libcublas.so.13" }, IlgpuNativeLibraries.FallbackNames("libcublas.so.12").ToArray());
        Assert.AreEqual(0, IlgpuNativeLibraries.FallbackNames("libc").Count, "other imports keep the runtime's own lookup");
        CollectionAssert.AreEqual(new[] { "libOpenCL.so", "libOpenCL.so.1" }, IlgpuNativeLibraries.NamesTried("OpenCL").ToArray());
    }

    [TestMethod]
    public void IlgpuSeesThePoclDeviceOnlyThroughTheResolver()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("the mapping is for Linux sonames");
        if (!NativeLibrary.TryLoad("libOpenCL.so.1", out _))
        {
            if (KernelConformance.IsCi) Assert.Fail("libOpenCL.so.1 (ocl-icd-libopencl1) is required in CI");
            Assert.Inconclusive("no OpenCL ICD loader (apt-get install ocl-icd-libopencl1 pocl-opencl-icd)");
        }
        if (NativeLibrary.TryLoad("libOpenCL.so", out _))
            Assert.Inconclusive("this machine has the unversioned libOpenCL.so (ocl-icd-opencl-dev), so ILGPU finds OpenCL without the resolver");

        int with = CountOpenCLDevicesInPrivateIlgpu(installResolver: true);
        if (with == 0)
        {
            if (KernelConformance.IsCi) Assert.Fail("PoCL (pocl-opencl-icd) is required in CI");
            Assert.Inconclusive("the ICD loader lists no OpenCL device (apt-get install pocl-opencl-icd)");
        }
        Assert.AreEqual(0, CountOpenCLDevicesInPrivateIlgpu(installResolver: false), "without the resolver ILGPU cannot load OpenCL and lists nothing");
        Assert.AreEqual(with, IlgpuDevices.ListOpenCL(out _).Count, "the program's own ILGPU has the resolver");
    }

    [TestMethod]
    public void InstallingTwiceKeepsTheFirstResolver()
    {
        IlgpuNativeLibraries.EnsureInstalled();
        IlgpuNativeLibraries.EnsureInstalled();
        Assert.IsFalse(IlgpuNativeLibraries.TryInstall(typeof(ILGPU.Context).Assembly), "ILGPU already has the resolver");
    }

    /// <summary>CLDevice.GetDevices(_ => true) on a fresh copy of ILGPU.dll, with or without the resolver.</summary>
    private static int CountOpenCLDevicesInPrivateIlgpu(bool installResolver)
    {
        var context = new AssemblyLoadContext($"ilgpu-{(installResolver ? "with" : "without")}-resolver", isCollectible: true);
        try
        {
            var ilgpu = context.LoadFromAssemblyPath(typeof(ILGPU.Context).Assembly.Location);
            Assert.AreNotSame(typeof(ILGPU.Context).Assembly, ilgpu);
            if (installResolver) Assert.IsTrue(IlgpuNativeLibraries.TryInstall(ilgpu));
            var deviceType = ilgpu.GetType("ILGPU.Runtime.OpenCL.CLDevice", throwOnError: true)!;
            var predicateType = typeof(Predicate<>).MakeGenericType(deviceType);
            // Predicate<CLDevice> of the private copy, bound to a method taking object (contravariance).
            var acceptAll = Delegate.CreateDelegate(predicateType,
                typeof(IlgpuNativeLibrariesTests).GetMethod(nameof(AcceptAll), BindingFlags.NonPublic | BindingFlags.Static)!);
            object devices = deviceType.GetMethod("GetDevices", [predicateType])!.Invoke(null, [acceptAll])!;
            return (int)devices.GetType().GetProperty("Length")!.GetValue(devices)!;
        }
        finally
        {
            context.Unload();
        }
    }

    private static bool AcceptAll(object device) => device is not null;
}
