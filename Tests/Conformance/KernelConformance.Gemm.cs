using IlgpuVae.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace IlgpuVae.Tests.Conformance;

/// <summary>GEMM against MathNet.Numerics in double precision.</summary>
public abstract partial class KernelConformance
{
    private static readonly (Transpose A, Transpose B)[] AllTransposePairs =
        [(Transpose.N, Transpose.N), (Transpose.N, Transpose.T), (Transpose.T, Transpose.N), (Transpose.T, Transpose.T)];

    // Sizes around and off every vector width and tile edge (1, 4, 8, 16, 64, 128), and k beyond a
    // typical cache block so that several k-panels are accumulated.
    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(3, 5, 7)]
    [DataRow(1, 130, 3)]
    [DataRow(7, 16, 4)]
    [DataRow(17, 33, 9)]
    [DataRow(64, 64, 64)]
    [DataRow(127, 129, 65)]
    [DataRow(130, 1, 130)]
    [DataRow(6, 17, 300)]
    [DataRow(33, 70, 600)]
    public void GemmMatchesReferenceForEveryTransposePair(int m, int n, int k)
    {
        foreach (var (ta, tb) in AllTransposePairs)
            CheckGemm(ta, tb, m, n, k, alpha: 1f, beta: 0f, Activation.Identity, withBias: false, seed: m * 7919 + n * 31 + k);
    }

    // The shapes of one training step of the default VAE (784-400-20-400-784, batch 128).
    [TestMethod]
    [DataRow(128, 400, 784, Transpose.N, Transpose.T)]
    [DataRow(128, 40, 400, Transpose.N, Transpose.T)]
    [DataRow(128, 400, 20, Transpose.N, Transpose.T)]
    [DataRow(128, 784, 400, Transpose.N, Transpose.T)]
    [DataRow(128, 400, 784, Transpose.N, Transpose.N)]
    [DataRow(128, 784, 400, Transpose.N, Transpose.N)]
    [DataRow(128, 20, 400, Transpose.N, Transpose.N)]
    [DataRow(400, 784, 128, Transpose.T, Transpose.N)]
    [DataRow(784, 400, 128, Transpose.T, Transpose.N)]
    [DataRow(40, 400, 128, Transpose.T, Transpose.N)]
    public void GemmMatchesReferenceOnTheVaeShapes(int m, int n, int k, Transpose ta, Transpose tb)
        => CheckGemm(ta, tb, Shape(m), Shape(n), Shape(k), alpha: 1f, beta: 0f, Activation.Relu, withBias: true, seed: m + n + k);

    [TestMethod]
    [DataRow(17, 33, 9)]
    [DataRow(64, 64, 64)]
    [DataRow(33, 47, 700)]
    public void GemmAppliesAlphaAndBeta(int m, int n, int k)
    {
        foreach (var (ta, tb) in AllTransposePairs)
        {
            CheckGemm(ta, tb, m, n, k, alpha: -0.75f, beta: 0.5f, Activation.Identity, withBias: false, seed: 11);
            CheckGemm(ta, tb, m, n, k, alpha: 2f, beta: 1f, Activation.Identity, withBias: false, seed: 12);
            CheckGemm(ta, tb, m, n, k, alpha: 0.5f, beta: 0f, Activation.Identity, withBias: false, seed: 13);
        }
    }

    [TestMethod]
    [DataRow(Activation.Identity)]
    [DataRow(Activation.Relu)]
    [DataRow(Activation.LeakyRelu)]
    [DataRow(Activation.Tanh)]
    [DataRow(Activation.Sigmoid)]
    public void GemmFusesEachEpilogueWithAndWithoutBias(Activation activation)
    {
        foreach (var (ta, tb) in AllTransposePairs)
        foreach (bool withBias in new[] { false, true })
        {
            CheckGemm(ta, tb, 19, 37, 23, alpha: 1.5f, beta: 0f, activation, withBias, seed: 21);
            CheckGemm(ta, tb, 13, 29, 41, alpha: 1f, beta: -0.5f, activation, withBias, seed: 22);
        }
        CheckGemm(Transpose.N, Transpose.T, Shape(128), Shape(400), Shape(784), alpha: 1f, beta: 0f, activation, withBias: true, seed: 23);
    }

    [TestMethod]
    public void GemmWorksOnViewsAtNonZeroOffsets()
    {
        const int m = 21, n = 35, k = 19;
        foreach (var (ta, tb) in AllTransposePairs)
        {
            var a = RandomFloats(31, m * k); var b = RandomFloats(32, k * n);
            var c = RandomFloats(33, m * n); var bias = RandomFloats(34, n);
            // Like the model: weights and bias are views of one parameter buffer, the activations and
            // the product views of one workspace.
            int bOffset = 5, biasOffset = bOffset + b.Length + 3, aOffset = 13, cOffset = aOffset + a.Length + 9;
            var parameters = Filled(biasOffset + n + 4, Guard);
            b.CopyTo(parameters, bOffset); bias.CopyTo(parameters, biasOffset);
            var workspace = Filled(cOffset + m * n + 6, Guard);
            a.CopyTo(workspace, aOffset); c.CopyTo(workspace, cOffset);
            using var p = Upload(parameters);
            using var w = Upload(workspace);
            var epilogue = Epilogue.WithBias(p.Slice(biasOffset, n), Activation.LeakyRelu, 0.2f);
            Acc.Gemm(ta, tb, m, n, k, 0.8f, w.Slice(aOffset, a.Length), p.Slice(bOffset, b.Length), 0.25f, w.Slice(cOffset, m * n), epilogue);

            var (expected, tolerance) = GemmReference(ta, tb, m, n, k, 0.8f, a, b, 0.25f, c, bias, Activation.LeakyRelu, 0.2f);
            var after = Download(w.View);
            AssertClose(expected, after.AsSpan(cOffset, m * n), i => tolerance[i], $"{ta}{tb} C view");
            Assert.IsTrue(after.AsSpan(aOffset, a.Length).SequenceEqual(a), "A changed");
            for (int i = 0; i < after.Length; i++)
                if ((i < aOffset || i >= aOffset + a.Length) && (i < cOffset || i >= cOffset + m * n))
                    Assert.AreEqual(Guard, after[i], $"{ta}{tb}: workspace element {i} outside the views was written");
            CollectionAssert.AreEqual(parameters, Download(p.View), "the parameter buffer changed");
        }
    }

    [TestMethod]
    public void GemmIsBitIdenticalRunToRun()
    {
        int m = Shape(128), n = Shape(400), k = Shape(784);
        using var a = Upload(RandomFloats(41, m * k));
        using var b = Upload(RandomFloats(42, n * k));
        using var c = Acc.Allocate<float>(m * n);
        Acc.Gemm(Transpose.N, Transpose.T, m, n, k, 1f, a, b, 0f, c);
        var first = Download(c);
        for (int run = 0; run < 3; run++)
        {
            Acc.Fill(c, float.NaN);
            Acc.Gemm(Transpose.N, Transpose.T, m, n, k, 1f, a, b, 0f, c);
            CollectionAssert.AreEqual(first, Download(c), $"run {run + 2} differs from the first");
        }
    }

    /// <summary>One GEMM on the device against the double reference; with beta = 0, C starts as NaN.</summary>
    private void CheckGemm(Transpose ta, Transpose tb, int m, int n, int k, float alpha, float beta,
        Activation activation, bool withBias, int seed, float slope = 0.05f)
    {
        var a = RandomFloats(seed, m * k);
        var b = RandomFloats(seed + 1, k * n);
        var c = beta == 0 ? Filled(m * n, float.NaN) : RandomFloats(seed + 2, m * n, -2f, 2f);
        var bias = withBias ? RandomFloats(seed + 3, n) : null;
        using var da = Upload(a);
        using var db = Upload(b);
        using var dc = Upload(c);
        using var dbias = bias is null ? null : Upload(bias);
        var epilogue = dbias is null ? new Epilogue(activation, default, slope) : Epilogue.WithBias(dbias, activation, slope);
        Acc.Gemm(ta, tb, m, n, k, alpha, da, db, beta, dc, epilogue);

        var (expected, tolerance) = GemmReference(ta, tb, m, n, k, alpha, a, b, beta, c, bias, activation, slope);
        AssertClose(expected, Download(dc), i => tolerance[i],
            $"Gemm {ta}{tb} {m}x{n}x{k} alpha={alpha} beta={beta} {activation}{(withBias ? "+bias" : "")}");
    }

    /// <summary>
    /// The expected C and a per-element tolerance: 1e-5 of the sum of the magnitudes that went into the
    /// element (any summation order stays inside it) plus 1e-6, plus the activation's own rounding.
    /// Every activation here is 1-Lipschitz, so an error before it is not amplified.
    /// </summary>
    private static (double[] Expected, double[] Tolerance) GemmReference(Transpose ta, Transpose tb, int m, int n, int k,
        float alpha, float[] a, float[] b, float beta, float[] c, float[]? bias, Activation activation, float slope)
    {
        var build = Matrix<double>.Build;
        var opA = ta == Transpose.N ? build.Dense(m, k, (i, p) => a[i * k + p]) : build.Dense(m, k, (i, p) => a[p * m + i]);
        var opB = tb == Transpose.N ? build.Dense(k, n, (p, j) => b[p * n + j]) : build.Dense(k, n, (p, j) => b[j * k + p]);
        var product = opA * opB;
        var magnitude = opA.PointwiseAbs() * opB.PointwiseAbs();
        var expected = new double[m * n];
        var tolerance = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double value = alpha * product[i, j], scale = Math.Abs(alpha) * magnitude[i, j];
            if (beta != 0) { value += beta * (double)c[i * n + j]; scale += Math.Abs(beta * c[i * n + j]); }
            if (bias is not null) { value += bias[j]; scale += Math.Abs(bias[j]); }
            double result = ApplyActivation(activation, value, slope);
            expected[i * n + j] = result;
            tolerance[i * n + j] = 1e-5 * scale + 1e-6 + 2e-6 * Math.Abs(result);
        }
        return (expected, tolerance);
    }

    /// <summary>The activations in double precision (the independent reference of every test here).</summary>
    protected static double ApplyActivation(Activation activation, double x, double slope) => activation switch
    {
        Activation.Identity => x,
        Activation.Relu => x > 0 ? x : 0,
        Activation.LeakyRelu => x > 0 ? x : slope * x,
        Activation.Tanh => Math.Tanh(x),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
