using System.Text.RegularExpressions;
using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cuda;

namespace IlgpuVae.Tests.Cuda;

/// <summary>
/// Every kernel family, exactly as the CUDA backend builds it (prelude_cuda.h, the defines the op mapping
/// gives a GPU, the family with its headers), compiles with NVRTC for Volta, Ampere and Hopper, and the
/// kernels keep their unmangled names. A kernel that is valid OpenCL but not valid CUDA fails here.
/// </summary>
[TestClass]
public sealed partial class NvrtcKernelCompileTests
{
    [TestMethod]
    [DataRow(70)]
    [DataRow(80)]
    [DataRow(90)]
    public void EveryFamilyCompilesForArchitecture(int architecture)
    {
        var nvrtc = NvrtcTestCompiler.Require();
        var compiler = new CudaKernelCompiler(nvrtc, cache: null);
        var families = KernelSources.Families;
        Assert.IsTrue(families.Count >= 6, $"expected the kernel families, found: {string.Join(", ", families)}");

        var failures = new List<string>();
        foreach (string family in families)
        {
            string source = KernelAccelerator.FamilySource(family);
            var defines = KernelAccelerator.DefinesFor(family, NvrtcTestCompiler.GpuLimits(architecture));
            string program = CudaKernelCompiler.Compose(family, source, defines);
            try
            {
                // One compile for the real architecture gives both the CUBIN the backend loads and the PTX.
                var compiled = compiler.Compile(program, family, new CudaTarget(architecture, Real: true));
                CollectionAssert.AreEqual("\u007fELF"u8.ToArray(), compiled.Image.Take(4).ToArray(), $"{family}: a CUBIN is an ELF image");
                StringAssert.Contains(compiled.Ptx, $".target sm_{architecture}", $"{family}: PTX for the requested architecture");
                var names = CudaKernelCompiler.KernelNames(source);
                Assert.AreNotEqual(0, names.Count, $"{family} declares no KERNEL");
                foreach (string name in names)
                {
                    // extern "C" keeps the name: a mangled C++ name would be _Z<length><name>...
                    Assert.IsTrue(Regex.IsMatch(compiled.Ptx, $@"\.entry\s+{name}\s*\("), $"{family}: PTX has no entry '{name}'");
                    Assert.IsTrue(ContainsBytes(compiled.Image, System.Text.Encoding.ASCII.GetBytes(name + "\0")), $"{family}: CUBIN has no symbol '{name}'");
                }
            }
            catch (NvrtcException e)
            {
                failures.Add($"{family} for sm_{architecture}:\n{e.Message}");
            }
        }
        if (failures.Count > 0) Assert.Fail(string.Join("\n\n", failures));
    }

    [TestMethod]
    public void CudaPreludeDefinesExactlyTheOpenCLMacroList()
    {
        var cuda = DefinedMacros(KernelSources.Load("prelude_cuda.h"));
        var opencl = DefinedMacros(KernelSources.Load("prelude_opencl.h"));
        CollectionAssert.AreEquivalent(opencl.Order().ToList(), cuda.Order().ToList(),
            $"only in OpenCL: {string.Join(", ", opencl.Except(cuda))}; only in CUDA: {string.Join(", ", cuda.Except(opencl))}");
    }

    /// <summary>Each macro of the prelude, used once and compiled: the PTX must show the instruction it maps to.</summary>
    [TestMethod]
    public void EveryPreludeMacroCompilesToTheExpectedInstructions()
    {
        var nvrtc = NvrtcTestCompiler.Require();
        const string source = """
            CONSTANT float table[2] = { 0.5f, 2.0f };
            DEVICE_FN float twice(float x) { return 2.0f * x; }
            KERNEL void every_macro(GLOBAL float* RESTRICT out, GLOBAL const uchar* RESTRICT bytes, uint a, uint b)
            {
                LOCAL float shared[64];
                int lx = LOCAL_ID(0), ly = LOCAL_ID(1);
                shared[lx] = (float)GROUP_ID(1) + (float)NUM_GROUPS(0) + (float)LOCAL_SIZE(1);
                BARRIER();
                int g = GLOBAL_ID(0) + GLOBAL_ID(1) * 1024;
                float x = shared[(lx + 1) % 64] + (float)bytes[g] + table[ly & 1];
                float r = EXPF(x) + LOGF(x) + LOG1PF(x) + SQRTF(x) + SINF(x) + COSF(x) + TANHF(x);
                r += FABSF(x) + FMAXF(x, r) + FMINF(x, r) + FMAF(x, r, 1.0f);
                out[g] = twice(r) + (float)MULHI(a, b);
            }
            """;
        var compiler = new CudaKernelCompiler(nvrtc, cache: null);
        string ptx = compiler.Compile(CudaKernelCompiler.Compose("macros.cl", source, new Dictionary<string, string>()),
            "macros.cl", new CudaTarget(70, Real: false)).Ptx;
        foreach (string expected in new[]
        {
            ".entry every_macro(", ".shared", ".const", "bar.sync", "mul.hi.u32", "%ctaid.x", "%ctaid.y", "%ntid.x", "%ntid.y",
            "%tid.x", "%tid.y", "%nctaid.x", "sqrt.rn.f32", "fma.rn.f32", "max.f32", "min.f32", "abs.f32", "ld.global.nc.u8",
        })
        {
            StringAssert.Contains(ptx, expected, $"PTX lacks '{expected}'");
        }
    }

    private static bool ContainsBytes(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static HashSet<string> DefinedMacros(string prelude)
        => MacroPattern().Matches(prelude).Select(m => m.Groups[1].Value)
            .Where(name => !name.StartsWith("IVAE_", StringComparison.Ordinal)).ToHashSet();

    [GeneratedRegex(@"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.Multiline)]
    private static partial Regex MacroPattern();
}
