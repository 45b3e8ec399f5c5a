using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;
using IlgpuVae.Tests.Conformance;

namespace IlgpuVae.Tests.Cpu;

/// <summary>
/// The AVX-512 GEMM kernel (16 x 16 tiles) against a double reference on ragged shapes, and against
/// the AVX2 kernel bit for bit: both run each element of C as the same FMA chain over k with the same
/// k-panels, so a model trained on either gives the same bits.
/// </summary>
[TestClass]
public sealed class CpuAvx512KernelTests
{
    private static readonly (Transpose A, Transpose B)[] Pairs =
        [(Transpose.N, Transpose.N), (Transpose.N, Transpose.T), (Transpose.T, Transpose.N), (Transpose.T, Transpose.T)];

    [TestInitialize]
    public void RequireAvx512()
    {
        if (!CpuGemmAvx512Kernel.IsSupported) Assert.Inconclusive("this CPU has no AVX-512");
    }

    // Every m and n modulo the tile (16 x 16) and modulo the AVX2 tile (6 x 16), on one and two threads.
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void RaggedShapesMatchTheDoubleReference(int threads)
    {
        using var acc = new CpuAccelerator(threads, CpuGemmKernel.Avx512);
        for (int m = 1; m <= 49; m += 3)
        for (int n = 1; n <= 33; n += 2)
        {
            int k = 1 + (m * 7 + n * 3) % 45;
            var (ta, tb) = Pairs[(m + n) % 4];
            Check(acc, ta, tb, m, n, k, seed: m * 100 + n);
        }
        foreach (var (ta, tb) in Pairs) Check(acc, ta, tb, 35, 21, CpuGemm.KC + 17, seed: 7);
    }

    [TestMethod]
    [DataRow(128, 400, 784, Transpose.N, Transpose.T, Activation.Relu)]
    [DataRow(128, 40, 400, Transpose.N, Transpose.T, Activation.Identity)]
    [DataRow(128, 400, 20, Transpose.N, Transpose.T, Activation.Tanh)]
    [DataRow(128, 20, 400, Transpose.N, Transpose.N, Activation.Sigmoid)]
    [DataRow(400, 20, 128, Transpose.T, Transpose.N, Activation.LeakyRelu)]
    [DataRow(37, 53, 611, Transpose.T, Transpose.T, Activation.Relu)]
    [DataRow(161, 1043, 261, Transpose.N, Transpose.N, Activation.Identity)]
    public void IsBitIdenticalToTheAvx2Kernel(int m, int n, int k, Transpose ta, Transpose tb, Activation activation)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) Assert.Inconclusive("no AVX2");
        var random = new Random(m + n + k);
        float[] Values(int length) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Values(m * k); var b = Values(k * n); var c = Values(m * n); var bias = Values(n);
        float[] Run(CpuGemmKernel kernel, int threads)
        {
            using var acc = new CpuAccelerator(threads, kernel);
            using var da = acc.Upload<float>(a); using var db = acc.Upload<float>(b);
            using var dc = acc.Upload<float>(c); using var dbias = acc.Upload<float>(bias);
            acc.Gemm(ta, tb, m, n, k, 0.9f, da, db, 0.4f, dc, Epilogue.WithBias(dbias, activation, 0.1f));
            return acc.Download(dc.View);
        }
        var avx2 = Run(CpuGemmKernel.Avx2Fma, 1);
        var avx512 = Run(CpuGemmKernel.Avx512, 2);
        for (int i = 0; i < avx2.Length; i++)
            if (BitConverter.SingleToInt32Bits(avx2[i]) != BitConverter.SingleToInt32Bits(avx512[i]))
                Assert.Fail($"{ta}{tb} {m}x{n}x{k}: element {i} is {avx512[i]:R} with AVX-512, {avx2[i]:R} with AVX2");
    }

    private static void Check(CpuAccelerator acc, Transpose ta, Transpose tb, int m, int n, int k, int seed)
    {
        var random = new Random(seed);
        float[] Values(int length) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Values(m * k); var b = Values(k * n); var c = Values(m * n); var bias = Values(n);
        using var da = acc.Upload<float>(a); using var db = acc.Upload<float>(b);
        using var dc = acc.Upload<float>(c); using var dbias = acc.Upload<float>(bias);
        acc.Gemm(ta, tb, m, n, k, 1.5f, da, db, -0.25f, dc, Epilogue.WithBias(dbias, Activation.Identity));
        var result = acc.Download(dc.View);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0, magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double av = ta == Transpose.N ? a[i * k + p] : a[p * m + i];
                double bv = tb == Transpose.N ? b[p * n + j] : b[j * k + p];
                sum += av * bv;
                magnitude += Math.Abs(av * bv);
            }
            double expected = 1.5 * sum - 0.25 * c[i * n + j] + bias[j];
            double tolerance = 1e-5 * (1.5 * magnitude + 0.25 * Math.Abs(c[i * n + j]) + Math.Abs(bias[j])) + 1e-6;
            if (!(Math.Abs(result[i * n + j] - expected) <= tolerance))
                Assert.Fail($"{ta}{tb} {m}x{n}x{k}: C[{i},{j}] = {result[i * n + j]:R}, expected {expected:R}");
        }
    }
}

/// <summary>
/// The whole suite on the AVX2+FMA kernel on two threads: on an AVX-512 machine the default
/// accelerator runs the AVX-512 kernel, and the AVX2 path (most x64 machines) must stay covered.
/// </summary>
[TestClass]
public sealed class CpuAvx2KernelConformance : KernelConformance
{
    protected override Accelerator CreateAccelerator() => new CpuAccelerator(threads: 2, CpuGemmKernel.Avx2Fma);
    protected override bool RequiredInCi => true;
}
