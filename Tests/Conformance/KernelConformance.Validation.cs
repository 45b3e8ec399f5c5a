using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// Every op validates its shapes on the host and throws before any launch: wrong lengths give
/// ArgumentException, non-positive sizes and out-of-range settings ArgumentOutOfRangeException (a
/// subclass), and outputs stay untouched.
/// </summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    public void GemmRejectsWrongShapes()
    {
        using var a = Upload(RandomFloats(1, 6 * 4));
        using var b = Upload(RandomFloats(2, 4 * 5));
        using var c = Upload(Filled(6 * 5, Guard));
        using var bias = Upload(RandomFloats(3, 5));
        using var shortBias = Upload(RandomFloats(3, 4));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Gemm(Transpose.N, Transpose.N, 6, 5, 3, 1f, a, b, 0f, c));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Gemm(Transpose.N, Transpose.N, 6, 4, 4, 1f, a, b, 0f, c));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Gemm(Transpose.N, Transpose.N, 6, 5, 4, 1f, a, b, 0f, c.Slice(0, 29)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Gemm(Transpose.N, Transpose.N, 6, 5, 4, 1f, a, b, 0f, c, Epilogue.WithBias(shortBias)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Gemm(Transpose.N, Transpose.N, 0, 5, 4, 1f, a, b, 0f, c));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Gemm(Transpose.T, Transpose.N, 6, 5, -4, 1f, a, b, 0f, c));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Gemm(Transpose.N, Transpose.N, 6, 5, 4, 1f, a, b, 0f, c, new Epilogue((Activation)9, bias)));
        Assert.IsTrue(Download(c).All(v => v == Guard), "a rejected GEMM wrote to C");
    }

    [TestMethod]
    public void ActivationsRejectWrongShapesAndSettings()
    {
        using var x = Upload(RandomFloats(4, 10));
        using var y = Upload(Filled(10, Guard));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ActivationForward(Activation.Relu, x, y.Slice(0, 9)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ActivationForward((Activation)(-1), x, y));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ActivationBackward(Activation.Tanh, x, x.Slice(1, 9), y));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ActivationBackward(Activation.Tanh, x, x, y.Slice(0, 3)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.ActivationBackward(Activation.LeakyRelu, x, x, y, leakySlope: 0f));
        Assert.IsTrue(Download(y).All(v => v == Guard), "a rejected activation wrote to its output");
    }

    [TestMethod]
    public void BiasGradientReduceSumAndFillRejectWrongShapes()
    {
        using var dy = Upload(RandomFloats(5, 12));
        using var db = Upload(Filled(4, Guard));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.BiasGradient(dy, 4, 4, db));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.BiasGradient(dy, 4, 3, db));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.BiasGradient(dy, 0, 4, db));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ReduceSum(dy, db.Slice(0, 2)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Fill(default, 1f));
        Assert.IsTrue(Download(db).All(v => v == Guard), "a rejected op wrote to its output");
    }

    [TestMethod]
    public void SamplingRejectsWrongShapes()
    {
        const int rows = 3, latent = 4;
        using var stats = Upload(RandomFloats(6, 2 * rows * latent));
        using var eps = Upload(Filled(rows * latent, Guard));
        using var z = Upload(Filled(rows * latent, Guard));
        using var dstats = Upload(Filled(2 * rows * latent, Guard));
        var random = new RandomSource(1, 1, RandomStream.Latent);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.SampleLatent(stats.Slice(0, rows * latent), rows, latent, random, eps, z));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.SampleLatent(stats, rows, latent, random, eps.Slice(1, 11), z));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.SampleLatent(stats, rows, latent, random, eps, z.Slice(0, 5)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.SampleLatent(stats, rows, 0, random, eps, z));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.SampleLatentBackward(stats, eps, z, rows, latent, dstats.Slice(0, 20)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.SampleLatentBackward(stats, eps, z.Slice(0, 11), rows, latent, dstats));
        Assert.IsTrue(Download(eps).All(v => v == Guard) && Download(z).All(v => v == Guard) && Download(dstats).All(v => v == Guard),
            "a rejected sampling op wrote to an output");
    }

    [TestMethod]
    public void VaeLossRejectsWrongShapesAndSettings()
    {
        const int rows = 2, features = 5, latent = 3;
        using var logits = Upload(RandomFloats(7, rows * features));
        using var x = Upload(RandomFloats(8, rows * features, 0f, 1f));
        using var stats = Upload(RandomFloats(9, 2 * rows * latent));
        using var loss = Upload(Filled(rows, Guard));
        using var dl = Upload(Filled(rows * features, Guard));
        using var ds = Upload(Filled(2 * rows * latent, Guard));
        var ok = new LossSettings(Likelihood.Bernoulli);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.VaeLoss(ok, logits.Slice(0, 9), x, stats, rows, features, latent, loss, dl, ds));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.VaeLoss(ok, logits, x, stats, rows, features, latent + 1, loss, dl, ds));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.VaeLoss(ok, logits, x, stats, rows, features, latent, loss.Slice(0, 1), dl, ds));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.VaeLoss(ok, logits, x, stats, rows, features, latent, loss, dl, ds, ds.Slice(0, 3)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.VaeLoss(new LossSettings(Likelihood.Gaussian, 1f, 0f), logits, x, stats, rows, features, latent, loss, dl, ds));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.VaeLoss(new LossSettings(Likelihood.Bernoulli, -1f), logits, x, stats, rows, features, latent, loss, dl, ds));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.VaeLoss(new LossSettings((Likelihood)7), logits, x, stats, rows, features, latent, loss, dl, ds));
        Assert.IsTrue(Download(loss).All(v => v == Guard) && Download(dl).All(v => v == Guard) && Download(ds).All(v => v == Guard),
            "a rejected loss wrote to an output");
    }

    [TestMethod]
    public void AdamRejectsWrongShapesAndSettings()
    {
        var p0 = RandomFloats(10, 8);
        using var p = Upload(p0);
        using var g = Upload(RandomFloats(11, 8));
        using var m = Upload(new float[8]);
        using var v = Upload(new float[8]);
        var ok = AdamSettings.Default;
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Adam(ok, 1, p, g.Slice(0, 7), m, v));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Adam(ok, 1, p, g, m.Slice(1, 7), v));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Adam(ok, 1, p, g, m, v.Slice(0, 1)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Adam(ok, 0, p, g, m, v));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Adam(ok with { Beta1 = 1f }, 1, p, g, m, v));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Adam(ok with { Epsilon = 0f }, 1, p, g, m, v));
        CollectionAssert.AreEqual(p0, Download(p), "a rejected Adam step moved the parameters");
    }

    [TestMethod]
    public void GatherRejectsWrongShapes()
    {
        using var data = Acc.Upload<byte>(new byte[30]);
        using var indices = Acc.Upload<int>(new int[4]);
        using var output = Upload(Filled(4 * 10, Guard));
        var random = new RandomSource(1, 0, RandomStream.Binarize);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GatherBatch(data, 7, indices, 4, output.Slice(0, 28), false, random));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GatherBatch(data, 10, indices.Slice(0, 3), 4, output, false, random));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.GatherBatch(data, 10, indices, 4, output.Slice(0, 39), true, random));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.GatherBatch(data, 10, indices, 0, output, false, random));
        Assert.IsTrue(Download(output).All(v => v == Guard), "a rejected gather wrote to its output");
    }

    [TestMethod]
    public void CopyRejectsOverlappingViewsAndAllocateRejectsOversizedBuffers()
    {
        var values = RandomFloats(14, 32);
        using var buffer = Upload(values);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Copy(buffer.Slice(0, 10), buffer.Slice(5, 10)));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Copy(buffer.Slice(5, 10), buffer.Slice(0, 10)));
        CollectionAssert.AreEqual(values, Download(buffer), "a rejected copy wrote");
        Acc.Copy(buffer.Slice(0, 10), buffer.Slice(10, 10)); // adjacent, not overlapping
        CollectionAssert.AreEqual(values[..10], Download(buffer)[10..20]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Allocate<float>(Accelerator.MaxBufferLength + 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.Allocate<float>(-1));
    }

    [TestMethod]
    public void OpsRejectBuffersOfAnotherAcceleratorAndDisposedOnes()
    {
        using var other = CreateAccelerator();
        using var foreign = other.Upload<float>(RandomFloats(12, 16));
        using var local = Upload(Filled(16, Guard));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ActivationForward(Activation.Relu, foreign, local));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Copy(foreign.View, local.View));
        var disposed = Upload(RandomFloats(13, 16));
        disposed.Dispose();
        Assert.ThrowsExactly<ArgumentException>(() => Acc.ActivationForward(Activation.Relu, disposed, local));
        Assert.IsTrue(Download(local).All(v => v == Guard), "a rejected op wrote to its output");

        // Buffers go before their accelerator, as a backend's native resources must.
        var closed = CreateAccelerator();
        var orphan = closed.Allocate<float>(4);
        var view = orphan.View;
        orphan.Dispose();
        closed.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => closed.Fill(view, 1f));
        Assert.ThrowsExactly<ObjectDisposedException>(() => closed.Allocate<float>(4));
    }
}
