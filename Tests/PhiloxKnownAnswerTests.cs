using IlgpuVae.Kernels;

namespace IlgpuVae.Tests;

/// <summary>Philox4x32-10 against the Random123 known-answer vectors (kat_vectors).</summary>
[TestClass]
public sealed class PhiloxKnownAnswerTests
{
    [TestMethod]
    [DataRow(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [DataRow(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [DataRow(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void BlockMatchesRandom123(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        var (r0, r1, r2, r3) = Philox.Block(c0, c1, c2, c3, k0, k1);
        Assert.AreEqual((e0, e1, e2, e3), (r0, r1, r2, r3));
    }
}
