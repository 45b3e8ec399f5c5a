using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cuda;

namespace IlgpuVae.Tests.Cuda;

/// <summary>The NVRTC binding, the disk cache of compiled images and the backend's reporting, without a GPU.</summary>
[TestClass]
public sealed class CudaBindingTests
{
    private const string SmallFamily = """
        KERNEL void scale_values(int n, float factor, GLOBAL float* values, int offset)
        {
            int i = GLOBAL_ID(0);
            if (i < n) values[offset + i] *= factor;
        }
        """;

    [TestMethod]
    public void BrokenProgramErrorNamesTheCallTheStatusAndTheLog()
    {
        var nvrtc = NvrtcTestCompiler.Require();
        var compiler = new CudaKernelCompiler(nvrtc, cache: null);
        const string broken = """
            KERNEL void broken(GLOBAL float* x)
            {
                x[0] = undefined_identifier_here;
            }
            """;
        var error = Assert.ThrowsExactly<NvrtcException>(() =>
            compiler.Build("broken.cl", broken, new Dictionary<string, string>(), new CudaTarget(80, Real: true)));
        StringAssert.Contains(error.Message, "nvrtcCompileProgram");
        StringAssert.Contains(error.Message, "NVRTC_ERROR_COMPILATION");
        StringAssert.Contains(error.Message, "--gpu-architecture=sm_80");
        // The log, with the family's own file name and line (the #line directive), is in the message.
        StringAssert.Contains(error.Log, "undefined_identifier_here");
        StringAssert.Contains(error.Log, "broken.cl(3)");
        StringAssert.Contains(error.Message, error.Log);
        Assert.AreEqual(NvrtcApi.ErrorCompilation, error.Status);
    }

    [TestMethod]
    public void VersionAndArchitecturesAreReported()
    {
        var nvrtc = NvrtcTestCompiler.Require();
        Assert.IsTrue(nvrtc.Major >= 11, $"NVRTC {nvrtc.Version}");
        CollectionAssert.IsSubsetOf(new[] { 70, 80, 90 }, nvrtc.SupportedArchitectures.ToArray(),
            $"NVRTC {nvrtc.Version} targets {string.Join(", ", nvrtc.SupportedArchitectures)}");
        Assert.IsTrue(nvrtc.CanEmitCubin);
    }

    [TestMethod]
    public void CacheKeyChangesWithEverythingThatChangesTheImage()
    {
        string program = CudaKernelCompiler.Compose("f.cl", SmallFamily, new Dictionary<string, string> { ["TILE"] = "16" });
        var sm80 = new CudaTarget(80, true);
        string key = CudaKernelCache.Key(program, sm80, "11.8", CudaKernelCompiler.Options(sm80));
        Assert.AreEqual(64, key.Length);
        Assert.AreEqual(key, CudaKernelCache.Key(program, sm80, "11.8", CudaKernelCompiler.Options(sm80)), "deterministic");

        string otherDefine = CudaKernelCompiler.Compose("f.cl", SmallFamily, new Dictionary<string, string> { ["TILE"] = "32" });
        var keys = new[]
        {
            key,
            CudaKernelCache.Key(program + " ", sm80, "11.8", CudaKernelCompiler.Options(sm80)),
            CudaKernelCache.Key(otherDefine, sm80, "11.8", CudaKernelCompiler.Options(sm80)),
            CudaKernelCache.Key(program, new CudaTarget(90, true), "11.8", CudaKernelCompiler.Options(new CudaTarget(90, true))),
            CudaKernelCache.Key(program, new CudaTarget(80, false), "11.8", CudaKernelCompiler.Options(new CudaTarget(80, false))),
            CudaKernelCache.Key(program, sm80, "12.4", CudaKernelCompiler.Options(sm80)),
            CudaKernelCache.Key(program, sm80, "11.8", ["--gpu-architecture=sm_80"]),
        };
        Assert.AreEqual(keys.Length, keys.Distinct().Count(), string.Join("\n", keys));
    }

    [TestMethod]
    public void DefinesAreSortedSoTheKeyIgnoresDictionaryOrder()
    {
        var forward = new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" };
        var backward = new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" };
        string composed = CudaKernelCompiler.Compose("f.cl", SmallFamily, forward);
        Assert.AreEqual(composed, CudaKernelCompiler.Compose("f.cl", SmallFamily, backward));
        StringAssert.Contains(composed, "#define A 1\n#define B 2\n");
        StringAssert.StartsWith(composed, "#line 1 \"prelude_cuda.h\"");
        Assert.ThrowsExactly<ArgumentException>(() => CudaKernelCompiler.Compose("f.cl", SmallFamily, new Dictionary<string, string> { ["1BAD"] = "1" }));
        Assert.ThrowsExactly<ArgumentException>(() => CudaKernelCompiler.Compose("f.cl", SmallFamily, new Dictionary<string, string> { ["X"] = "1\n#error" }));
    }

    [TestMethod]
    public void SecondBuildComesFromTheCacheAndCompilesNothing()
    {
        var nvrtc = NvrtcTestCompiler.Require();
        string directory = NvrtcTestCompiler.TemporaryDirectory();
        try
        {
            var target = new CudaTarget(80, Real: true);
            var defines = new Dictionary<string, string> { ["UNUSED"] = "1" };
            var first = new CudaKernelCompiler(nvrtc, new CudaKernelCache(directory));
            var built = first.Build("scale.cl", SmallFamily, defines, target);
            Assert.IsFalse(built.FromCache);
            Assert.AreEqual(1, first.Compilations);
            string[] files = Directory.GetFiles(directory);
            Assert.AreEqual(1, files.Length, "one image, no temporary file left behind: " + string.Join(", ", files));
            StringAssert.StartsWith(Path.GetFileName(files[0]), "scale-sm_80-");
            StringAssert.EndsWith(files[0], ".cubin");

            // A new process would start with a new compiler: same directory, nothing compiled.
            var second = new CudaKernelCompiler(nvrtc, new CudaKernelCache(directory));
            var cached = second.Build("scale.cl", SmallFamily, defines, target);
            Assert.IsTrue(cached.FromCache);
            Assert.AreEqual(0, second.Compilations);
            CollectionAssert.AreEqual(built.Image, cached.Image);
            Assert.AreEqual(built.CacheKey, cached.CacheKey);

            // Anything that changes the image misses the cache.
            var otherArch = second.Build("scale.cl", SmallFamily, defines, new CudaTarget(90, Real: true));
            Assert.IsFalse(otherArch.FromCache);
            Assert.AreEqual(1, second.Compilations);
            var otherDefines = second.Build("scale.cl", SmallFamily, new Dictionary<string, string> { ["UNUSED"] = "2" }, target);
            Assert.IsFalse(otherDefines.FromCache);
            Assert.AreEqual(2, second.Compilations);
            Assert.AreEqual(3, Directory.GetFiles(directory).Length);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AnEmptyCacheFileIsAMissNotAnImage()
    {
        string directory = NvrtcTestCompiler.TemporaryDirectory();
        try
        {
            var cache = new CudaKernelCache(directory);
            var target = new CudaTarget(80, true);
            File.WriteAllBytes(cache.PathFor("f.cl", "abc", target), []);
            Assert.IsFalse(cache.TryRead("f.cl", "abc", target, out _));
            Assert.IsTrue(cache.Write("f.cl", "abc", target, [1, 2, 3]));
            Assert.IsTrue(cache.TryRead("f.cl", "abc", target, out byte[] image));
            CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, image);
            cache.Remove("f.cl", "abc", target);
            Assert.IsFalse(cache.TryRead("f.cl", "abc", target, out _));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void CacheDirectoryFollowsXdgCacheHome()
    {
        Assert.AreEqual(Path.Combine("/scratch/job42/cache", "ilgpu-vae", "cuda"),
            CudaKernelCache.DefaultDirectory(name => name == "XDG_CACHE_HOME" ? "/scratch/job42/cache" : null));
        // Unset, or relative (which the XDG specification says to ignore): the home directory's .cache.
        foreach (string? value in new[] { null, "relative/cache" })
        {
            StringAssert.EndsWith(CudaKernelCache.DefaultDirectory(_ => value), Path.Combine(".cache", "ilgpu-vae", "cuda"));
        }
    }

    [TestMethod]
    public void KernelNamesIgnoreCommentsAndOtherFunctions()
    {
        const string source = """
            /* KERNEL void in_a_block_comment(int x) */
            // KERNEL void in_a_line_comment(int x)
            DEVICE_FN float square(float x) { return x; }
            KERNEL void first(GLOBAL float* a) { }
            KERNEL  void
              second (int n) { }
            """;
        CollectionAssert.AreEqual(new[] { "first", "second" }, CudaKernelCompiler.KernelNames(source).ToArray());
    }

    [TestMethod]
    [DataRow(90, 90, true, "sm_90")]
    [DataRow(86, 86, true, "sm_86")]
    [DataRow(100, 90, false, "compute_90")]  // newer than this NVRTC: PTX the driver JIT-compiles
    [DataRow(87, 86, false, "compute_86")]
    public void TargetIsTheDeviceArchitectureOrTheNewestOlderPtx(int cc, int architecture, bool real, string name)
    {
        int[] supported = [50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 90];
        var target = CudaTarget.ForDevice(cc, supported, canEmitCubin: true);
        Assert.AreEqual(new CudaTarget(architecture, real), target);
        Assert.AreEqual(name, target.Name);
    }

    [TestMethod]
    public void TargetWithoutCubinSupportIsPtxAndTooOldADeviceIsRefused()
    {
        Assert.AreEqual("compute_80", CudaTarget.ForDevice(80, [70, 80], canEmitCubin: false).Name);
        var error = Assert.ThrowsExactly<NotSupportedException>(() => CudaTarget.ForDevice(35, [50, 90], canEmitCubin: true));
        StringAssert.Contains(error.Message, "sm_35");
    }

    [TestMethod]
    public void MissingDriverIsAReasonNotAnException()
    {
        var provider = Devices.HandWrittenProvider(BackendKind.Cuda);
        var devices = provider.Enumerate(out string? reason);
        if (CudaDriverApi.TryGet(out _) is not null && devices.Count > 0)
            Assert.Inconclusive($"this machine has CUDA devices: {string.Join(", ", devices.Select(d => d.Name))}");
        Assert.AreEqual(0, devices.Count);
        Assert.IsFalse(string.IsNullOrWhiteSpace(reason));
        if (CudaDriverApi.TryGet(out _) is null) StringAssert.Contains(reason, CudaDriverApi.LibraryCandidates[0]);
        var error = Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.OpenHandWritten("cuda"));
        StringAssert.Contains(error.Message, reason!);
        Assert.ThrowsExactly<DeviceUnavailableException>(() => Devices.OpenHandWritten("cuda:1"));
    }

    [TestMethod]
    [DataRow("13.0", "12.4", 1)]
    [DataRow("12.10", "12.9", 1)]
    [DataRow("12.4", "12.4", 0)]
    [DataRow("11.2", "12.0", -1)]
    public void VersionsCompareNumerically(string a, string b, int sign)
        => Assert.AreEqual(sign, Math.Sign(CudaAccelerator.CompareVersions(a, b)));
}
