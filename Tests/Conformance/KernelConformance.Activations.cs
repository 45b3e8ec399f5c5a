using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>Activation forward and backward over every length 0..257 against a double reference.</summary>
public abstract partial class KernelConformance
{
    private const int MaxSweepLength = 257;

    /// <summary>Inputs that cover the interesting ranges: zeros, tiny, moderate, saturating, extreme.</summary>
    private static float[] ActivationInputs(int seed, int length)
    {
        var x = RandomFloats(seed, length, -8f, 8f);
        float[] specials = [0f, -0f, 1e-30f, -1e-30f, 20f, -20f, 100f, -100f, 1e-4f, -1e-4f];
        for (int i = 0; i < length; i += 5) x[i] = specials[(i / 5) % specials.Length];
        return x;
    }

    [TestMethod]
    [DataRow(Activation.Identity, 0.01f)]
    [DataRow(Activation.Relu, 0.01f)]
    [DataRow(Activation.LeakyRelu, 0.01f)]
    [DataRow(Activation.LeakyRelu, 0.3f)]
    [DataRow(Activation.Tanh, 0.01f)]
    [DataRow(Activation.Sigmoid, 0.01f)]
    public void ActivationForwardMatchesReferenceForEveryLength(Activation activation, float slope)
    {
        var x = ActivationInputs(51, MaxSweepLength);
        var expected = x.Select(v => ApplyActivation(activation, v, slope)).ToArray();
        using var dx = Upload(x);
        using var dy = Upload(Filled(MaxSweepLength + 3, Guard));
        for (int length = 0; length <= MaxSweepLength; length++)
        {
            Acc.CopyFromHost<float>(Filled(dy.Length, Guard), dy.View);
            // Views starting at 1 put every length off any alignment the backend may assume.
            int offset = length % 2;
            if (length + offset > MaxSweepLength) offset = 0;
            Acc.ActivationForward(activation, dx.Slice(offset, length), dy.Slice(offset, length), slope);
            var y = Download(dy);
            AssertClose(expected.AsSpan(offset, length), y.AsSpan(offset, length), 2e-6, 1e-7, $"{activation} forward, length {length}");
            for (int i = 0; i < y.Length; i++)
                if (i < offset || i >= offset + length)
                    Assert.AreEqual(Guard, y[i], $"{activation} forward, length {length}: element {i} outside the view written");
        }
    }

    [TestMethod]
    [DataRow(Activation.Identity)]
    [DataRow(Activation.Relu)]
    [DataRow(Activation.LeakyRelu)]
    [DataRow(Activation.Tanh)]
    [DataRow(Activation.Sigmoid)]
    public void ActivationForwardWorksInPlace(Activation activation)
    {
        var x = ActivationInputs(52, 131);
        using var buffer = Upload(x);
        Acc.ActivationForward(activation, buffer, buffer, 0.1f);
        AssertClose(x.Select(v => ApplyActivation(activation, v, 0.1f)).ToArray(), Download(buffer), 2e-6, 1e-7, $"{activation} in place");
    }

    [TestMethod]
    [DataRow(Activation.Identity, 0.01f)]
    [DataRow(Activation.Relu, 0.01f)]
    [DataRow(Activation.LeakyRelu, 0.01f)]
    [DataRow(Activation.LeakyRelu, 0.3f)]
    [DataRow(Activation.Tanh, 0.01f)]
    [DataRow(Activation.Sigmoid, 0.01f)]
    public void ActivationBackwardMatchesReferenceForEveryLength(Activation activation, float slope)
    {
        // The backward is a function of the forward output y, as the contract defines it.
        var y = ActivationInputs(53, MaxSweepLength).Select(v => (float)ApplyActivation(activation, v, slope)).ToArray();
        var dy = RandomFloats(54, MaxSweepLength, -3f, 3f);
        var expected = new double[MaxSweepLength];
        for (int i = 0; i < expected.Length; i++) expected[i] = dy[i] * Derivative(activation, y[i], slope);
        using var dY = Upload(y);
        using var dDy = Upload(dy);
        using var dDx = Upload(Filled(MaxSweepLength, Guard));
        for (int length = 0; length <= MaxSweepLength; length++)
        {
            Acc.CopyFromHost<float>(Filled(MaxSweepLength, Guard), dDx.View);
            Acc.ActivationBackward(activation, dY.Slice(0, length), dDy.Slice(0, length), dDx.Slice(0, length), slope);
            var dx = Download(dDx);
            AssertClose(expected.AsSpan(0, length), dx.AsSpan(0, length), BackwardTolerance(expected, dy), $"{activation} backward, length {length}");
            for (int i = length; i < dx.Length; i++)
                Assert.AreEqual(Guard, dx[i], $"{activation} backward, length {length}: element {i} outside the view written");
        }
    }

    [TestMethod]
    [DataRow(Activation.Relu)]
    [DataRow(Activation.Tanh)]
    [DataRow(Activation.Sigmoid)]
    public void ActivationBackwardWorksInPlace(Activation activation)
    {
        var y = ActivationInputs(55, 77).Select(v => (float)ApplyActivation(activation, v, 0.01f)).ToArray();
        var dy = RandomFloats(56, 77);
        using var dY = Upload(y);
        using var grad = Upload(dy);
        Acc.ActivationBackward(activation, dY, grad, grad);
        var expected = dy.Select((g, i) => g * Derivative(activation, y[i], 0.01f)).ToArray();
        AssertClose(expected, Download(grad), BackwardTolerance(expected, dy), $"{activation} backward in place");
    }

    /// <summary>
    /// 1 - y*y for y near 1 loses the rounding of y*y (2^-24) unless the backend fuses it, so the
    /// absolute part scales with dy.
    /// </summary>
    private static Func<int, double> BackwardTolerance(double[] expected, float[] dy)
        => i => 2e-6 * Math.Abs(expected[i]) + 1.2e-7 * (1 + Math.Abs(dy[i]));

    /// <summary>f'(x) written in terms of y = f(x), in double.</summary>
    private static double Derivative(Activation activation, double y, double slope) => activation switch
    {
        Activation.Identity => 1,
        Activation.Relu => y > 0 ? 1 : 0,
        Activation.LeakyRelu => y > 0 ? 1 : slope,
        Activation.Tanh => 1 - y * y,
        Activation.Sigmoid => y * (1 - y),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
