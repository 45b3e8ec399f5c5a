using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>The output size of a convolution, and the messages of the shapes that have none.</summary>
[TestClass]
public sealed class ConvolutionShapeTests
{
    [TestMethod]
    [DataRow(28, 4, 2, 1, 14)]  // the conv VAE's encoder
    [DataRow(14, 4, 2, 1, 7)]
    [DataRow(5, 3, 2, 1, 3)]
    [DataRow(7, 3, 2, 1, 4)]
    [DataRow(7, 3, 1, 1, 7)]    // "same" padding
    [DataRow(9, 3, 2, 0, 4)]
    [DataRow(8, 2, 3, 0, 3)]    // stride above the kernel
    [DataRow(3, 5, 1, 2, 3)]    // a kernel wider than the image
    [DataRow(1, 1, 1, 0, 1)]
    [DataRow(1, 3, 5, 1, 1)]
    public void OutputIsTheNumberOfWindows(int size, int kernel, int stride, int padding, int expected)
    {
        Assert.AreEqual(expected, ConvolutionShape.Output(size, kernel, stride, padding));
        // The last window ends inside the padded image, and one more would not.
        int last = (expected - 1) * stride + kernel;
        Assert.IsLessThanOrEqualTo(size + 2 * padding, last);
        Assert.IsGreaterThan(size + 2 * padding, last + stride);
    }

    [TestMethod]
    public void ShapesWithoutAnOutputThrowNamingTheArgument()
    {
        var ragged = Assert.ThrowsExactly<ArgumentException>(() => ConvolutionShape.Output(6, 3, 2, 1));
        Assert.AreEqual("size", ragged.ParamName);
        StringAssert.Contains(ragged.Message, "size 6 + 2 padding 1 − kernel 3 = 5 is not a multiple of stride 2 (size 5 or 7 would fit)");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ConvolutionShape.Output(1, 1, 3, 1)).Message, "(size 2 would fit)");
        var tooSmall = Assert.ThrowsExactly<ArgumentException>(() => ConvolutionShape.Output(2, 5, 1, 1));
        Assert.AreEqual("size", tooSmall.ParamName);
        StringAssert.Contains(tooSmall.Message, "a 5-wide kernel does not fit size 2 with padding 1");
        Assert.AreEqual("size", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ConvolutionShape.Output(0, 1, 1, 0)).ParamName);
        Assert.AreEqual("kernel", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ConvolutionShape.Output(4, 0, 1, 0)).ParamName);
        Assert.AreEqual("stride", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ConvolutionShape.Output(4, 2, -1, 0)).ParamName);
        Assert.AreEqual("padding", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ConvolutionShape.Output(4, 2, 1, -1)).ParamName);
        Assert.AreEqual("padding", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ConvolutionShape.Output(int.MaxValue, 1, 1, int.MaxValue)).ParamName);
    }
}
