using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.OpenCL;

/// <summary>
/// The shared kernel sources as text (what FamilySource hands to both compilers, the defines chosen per
/// device) and the dialect's macros compiled by OpenCL and checked against .NET on the device.
/// </summary>
[TestClass]
public sealed class KernelSourceTests
{
    [TestMethod]
    public void FamilySourceInlinesEachHeaderOnceAndKeepsNoInclude()
    {
        foreach (string family in KernelSources.Families)
        {
            string source = KernelAccelerator.FamilySource(family);
            Assert.IsFalse(source.Contains("#include", StringComparison.Ordinal), $"{family} still has an #include");
            StringAssert.StartsWith(source, $"#line 1 \"{family}\"");
            Assert.AreEqual(source, KernelAccelerator.FamilySource(family[..^3]), "the family name works with or without .cl");
        }
        string sampling = KernelAccelerator.FamilySource("sampling");
        Assert.AreEqual(1, Count(sampling, "#define IVAE_PHILOX_H"), "philox.h inlined once");
        StringAssert.Contains(sampling, "KERNEL void sample_latent(");
        string gemm = KernelAccelerator.FamilySource("gemm");
        Assert.AreEqual(1, Count(gemm, "#define IVAE_ACTIVATION_H"));
    }

    [TestMethod]
    public void KernelNamesAreUniqueAcrossFamilies()
    {
        var owners = new Dictionary<string, string>();
        foreach (string family in KernelSources.Families)
        {
            foreach (string line in KernelSources.Load(family).Split('\n'))
            {
                string trimmed = line.Trim();
                if (!trimmed.StartsWith("KERNEL void ", StringComparison.Ordinal)) continue;
                string name = trimmed["KERNEL void ".Length..].Split('(')[0].Trim();
                Assert.IsTrue(owners.TryAdd(name, family), $"kernel {name} is in {family} and {owners.GetValueOrDefault(name)}");
            }
        }
        Assert.IsTrue(owners.ContainsKey("gemm_tiled") && owners.ContainsKey("vae_loss") && owners.ContainsKey("adam_step"));
    }

    [TestMethod]
    public void ThePreludeDocumentsAndDefinesEveryMacroOfTheDialect()
    {
        string prelude = KernelSources.Load("prelude_opencl.h");
        string[] macros = ["KERNEL", "DEVICE_FN", "GLOBAL", "LOCAL", "CONSTANT", "RESTRICT", "GLOBAL_ID(d)", "LOCAL_ID(d)",
            "GROUP_ID(d)", "LOCAL_SIZE(d)", "NUM_GROUPS(d)", "BARRIER()", "MULHI(a, b)", "EXPF", "LOGF", "LOG1PF", "SQRTF",
            "SINF", "COSF", "TANHF", "FABSF", "FMAXF", "FMINF", "FMAF"];
        foreach (string macro in macros)
        {
            string name = macro.Split('(')[0];
            StringAssert.Contains(prelude, $"#define {name}", $"{name} is defined");
            Assert.IsTrue(prelude.IndexOf(name, StringComparison.Ordinal) < prelude.IndexOf("#ifndef", StringComparison.Ordinal),
                $"{name} is documented in the header comment");
        }
    }

    [TestMethod]
    [DataRow(4096, 524288L, true)]
    [DataRow(4096, 524288L, false)]
    [DataRow(1024, 49152L, true)]
    [DataRow(256, 32768L, true)]
    [DataRow(128, 16384L, true)]
    [DataRow(64, 4096L, true)]
    [DataRow(32, 4096L, false)]
    [DataRow(16, 2048L, false)]
    public void TuningFitsTheDeviceLimits(int maxGroup, long localBytes, bool isGpu)
    {
        var limits = new KernelDeviceLimits(maxGroup, localBytes, 8, isGpu, 32);
        var t = KernelTuning.For(limits);
        int threadsM = t.GemmTileM / t.GemmWorkM, threadsN = t.GemmTileN / t.GemmWorkN;
        Assert.AreEqual(0, t.GemmTileM % t.GemmWorkM);
        Assert.AreEqual(0, t.GemmTileN % t.GemmWorkN);
        Assert.IsTrue(threadsM * threadsN <= maxGroup, "GEMM work-group fits");
        Assert.IsTrue(2L * t.GemmTileK * (Math.Max(t.GemmTileM, t.GemmTileN) + 1) * sizeof(float) <= localBytes, "GEMM tiles fit local memory");
        Assert.AreEqual(!isGpu, t.PreferBlockedGemm, "CPU devices take the barrier-free GEMM");
        foreach (int group in new[] { t.ElementGroup, t.LossGroup, t.ReduceGroup, t.BiasGroupX * t.BiasGroupY, t.DirectX * t.DirectY, t.BlockedX * t.BlockedY, t.DialectGroup })
            Assert.IsTrue(group >= 1 && group <= maxGroup, $"work-group {group} fits {maxGroup}");
        Assert.IsTrue(IsPowerOfTwo(t.LossGroup) && IsPowerOfTwo(t.ReduceGroup), "reduction trees need powers of two");

        var gemm = KernelAccelerator.DefinesFor("gemm.cl", limits);
        Assert.AreEqual(t.GemmTileM.ToString(), gemm["GEMM_TS_M"]);
        Assert.AreEqual(t.GemmWorkN.ToString(), gemm["GEMM_WPT_N"]);
        Assert.AreEqual(t.GemmBlockM.ToString(), gemm["GEMM_BM"]);
        Assert.AreEqual(t.LossGroup.ToString(), KernelAccelerator.DefinesFor("loss", limits)["LOSS_WG"]);
        Assert.AreEqual(0, KernelAccelerator.DefinesFor("adam", limits).Count);
    }

    [TestMethod]
    public void EveryDialectMacroComputesWhatDotNetComputes()
    {
        using var acc = OpenCLTestDevice.Open();
        int group = acc.Tuning.DialectGroup, groups = 3, count = group * groups - 5;
        var input = OpenCLTestDevice.Random(count, seed: 5, lo: -4f, hi: 4f);
        input[0] = 0f; input[1] = -0f; input[2] = 1e-30f;
        using var inputBuffer = acc.Upload<float>(input);
        using var values = acc.Allocate<float>(count * 12 + 3);
        using var words = acc.Allocate<uint>(count * 7);
        acc.EnsureBuilt("dialect");
        acc.Launch("dialect_probe",
            [KernelArg.Int(count), KernelArg.Buffer(inputBuffer), KernelArg.Int(0), KernelArg.Buffer(values), KernelArg.Int(3), KernelArg.Buffer(words), KernelArg.Int(0)],
            group * groups, 1, group, 1);
        var v = acc.Download(values.Slice(3, count * 12));
        var w = acc.Download(words.View);
        float[] table = [0.5f, 1.5f, -2.5f, 3.25f];
        for (int g = 0; g < count; g++)
        {
            double x = input[g];
            int next = g / group * group + (g % group + 1) % group;
            double[] expected = [next < count ? input[next] : 0, Math.Exp(x), Math.Log(Math.Abs(x) + 1), Math.Log(1 + Math.Abs(x)),
                Math.Sqrt(Math.Abs(x)), Math.Sin(x), Math.Cos(x), Math.Tanh(x), Math.Max(x, 0.25), Math.Min(x, 0.25), 2 * x + x * x, table[g % 4]];
            for (int q = 0; q < expected.Length; q++)
            {
                double tolerance = 4e-7 * Math.Max(1, Math.Abs(expected[q]));
                Assert.AreEqual(expected[q], v[g * 12 + q], tolerance, $"value {q} of work-item {g} (x = {x:R})");
            }
            uint mulhi = (uint)(((ulong)0xD2511F53u * unchecked((uint)g * 2654435761u)) >> 32);
            uint[] expectedWords = [mulhi, (uint)g, (uint)(g % group), (uint)(g / group), (uint)group, (uint)groups, (uint)(byte)(g * 7)];
            CollectionAssert.AreEqual(expectedWords, w.AsSpan(g * 7, 7).ToArray(), $"words of work-item {g}");
        }
    }

    private static bool IsPowerOfTwo(int value) => value > 0 && (value & (value - 1)) == 0;

    private static int Count(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
