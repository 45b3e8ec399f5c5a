using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Tests.Model;

/// <summary>The flat parameter buffer's length, told before any layout is built, and the one-buffer limit it must respect.</summary>
[TestClass]
public sealed class ModelSizeLimitTests
{
    [TestMethod]
    [DataRow(784, new[] { 400 }, 20)]
    [DataRow(784, new[] { 512, 256 }, 16)]
    [DataRow(6, new[] { 1, 1, 1 }, 1)]
    [DataRow(1, new[] { 65 }, 63)]
    [DataRow(3072, new[] { 1000, 333, 77 }, 31)]
    public void FlatLengthIsTheLayoutsLength(int input, int[] hidden, int latent)
    {
        var config = new VaeConfig { Input = input, ImageHeight = 1, ImageWidth = input, Hidden = hidden, Latent = latent };
        Assert.AreEqual((long)new ParameterLayout(config).Length, ParameterLayout.FlatLength(config));
    }

    [TestMethod]
    public void AModelPastOneBufferIsRefusedByValidateWithTheCountAndTheLimit()
    {
        var fits = new VaeConfig { Hidden = [20000, 20000] };
        Assert.IsNull(fits.TooLarge());
        Assert.IsLessThanOrEqualTo(VaeConfig.MaxParameterBufferLength, ParameterLayout.FlatLength(fits));

        var huge = new VaeConfig { Hidden = [60000, 60000] };
        var e = Assert.ThrowsExactly<ArgumentException>(() => huge.Validate());
        StringAssert.Contains(e.Message, "has 7,297,920,976 parameters");
        StringAssert.Contains(e.Message, $"at most {Accelerator.MaxBufferLength:N0}");

        // Widths whose products overflow a long if multiplied carelessly.
        var absurd = new VaeConfig { Hidden = [int.MaxValue, int.MaxValue, int.MaxValue], Latent = int.MaxValue };
        StringAssert.Contains(absurd.TooLarge(), "parameters");
        Assert.IsGreaterThan(VaeConfig.MaxParameterBufferLength, ParameterLayout.FlatLength(absurd));
    }

    [TestMethod]
    public void MetadataClaimingATooLargeModelIsAFormatError()
    {
        var metadata = new VaeConfig { Hidden = [3_000_000] }.ToMetadata();
        var e = Assert.ThrowsExactly<FormatException>(() => VaeConfig.FromMetadata(metadata));
        StringAssert.Contains(e.Message, "invalid model");
        StringAssert.Contains(e.Message, "parameters");
    }
}
