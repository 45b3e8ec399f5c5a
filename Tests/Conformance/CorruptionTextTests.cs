using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>The text form of a corruption (what the command line takes): it round trips, and bad text says what it is and what was expected.</summary>
[TestClass]
public sealed class CorruptionTextTests
{
    [TestMethod]
    [DataRow("none", CorruptionKind.None, 0f)]
    [DataRow("gaussian:0.1", CorruptionKind.Gaussian, 0.1f)]
    [DataRow("gaussian:2.5", CorruptionKind.Gaussian, 2.5f)]
    [DataRow("gaussian:1E-05", CorruptionKind.Gaussian, 1e-5f)]
    [DataRow("salt-pepper:0.3", CorruptionKind.SaltPepper, 0.3f)]
    [DataRow("salt-pepper:1", CorruptionKind.SaltPepper, 1f)]
    [DataRow("mask:0.25", CorruptionKind.Mask, 0.25f)]
    [DataRow("mask:1", CorruptionKind.Mask, 1f)]
    [DataRow("downsample:2", CorruptionKind.Downsample, 2f)]
    [DataRow("downsample:7", CorruptionKind.Downsample, 7f)]
    public void ParseReadsEachKindAndToStringGivesTheTextBack(string text, CorruptionKind kind, float amount)
    {
        var corruption = Corruption.Parse(text);
        Assert.AreEqual(new Corruption(kind, amount), corruption);
        Assert.AreEqual(text, corruption.ToString());
        Assert.AreEqual(corruption, Corruption.Parse(corruption.ToString()));
    }

    [TestMethod]
    public void EveryFloatAmountRoundTripsExactly()
    {
        var rng = new Random(7);
        for (int k = 0; k < 1000; k++)
        {
            float p = Math.Max(float.Epsilon, rng.NextSingle());
            foreach (var c in new[] { new Corruption(CorruptionKind.Gaussian, p * 10), new Corruption(CorruptionKind.Mask, p), new Corruption(CorruptionKind.SaltPepper, p) })
                Assert.AreEqual(c, Corruption.Parse(c.ToString()), c.ToString());
        }
        Assert.AreEqual("downsample:16777216", new Corruption(CorruptionKind.Downsample, 1 << 24).ToString());
        Assert.AreEqual(Corruption.None, Corruption.Parse(Corruption.None.ToString()));
    }

    [TestMethod]
    [DataRow("gaussian")]
    [DataRow("gaussian:")]
    [DataRow("gaussian:-1")]
    [DataRow("gaussian:0")]
    [DataRow("gaussian:NaN")]
    [DataRow("gaussian:1e39")]
    [DataRow("gaussian:0,5")]
    [DataRow("mask:1.5")]
    [DataRow("mask:0")]
    [DataRow("salt-pepper:-0.1")]
    [DataRow("downsample:1")]
    [DataRow("downsample:2.5")]
    [DataRow("downsample:-2")]
    [DataRow("downsample:99999999999")]
    [DataRow("blur:3")]
    [DataRow("Gaussian:0.1")]
    [DataRow("none:1")]
    [DataRow("")]
    public void ParseRejectsBadTextNamingIt(string text)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => Corruption.Parse(text));
        StringAssert.Contains(error.Message, $"'{text}'");
        StringAssert.Contains(error.Message, "expected none, gaussian:S");
    }
}
