using IlgpuVae.Kernels;

namespace IlgpuVae.Tests.Conformance;

/// <summary>
/// The convolution ops against scalar references written here: Im2Col exactly (it only moves values and
/// writes the padding's zeros), Col2Im bit for bit against a float gather in the contract's order and
/// within rounding of a double scatter (the adjoint by its definition), the adjoint identity
/// &lt;Im2Col(x), y&gt; = &lt;x, Col2Im(y)&gt;, BiasActivation against ActivationForward and the GEMM
/// epilogue, and the host-side validation of every shape.
/// </summary>
public abstract partial class KernelConformance
{
    [TestMethod]
    [DataRow(2, 5, 7, 3, 3, 2, 1)]     // ragged: 5x7 images of 3 channels -> 3x4 windows
    [DataRow(3, 28, 28, 1, 4, 2, 1)]   // the encoder's first layer, 28 -> 14
    [DataRow(2, 14, 14, 32, 4, 2, 1)]  // its second, 14 -> 7
    [DataRow(2, 6, 5, 2, 3, 1, 1)]     // stride 1, same size
    [DataRow(2, 7, 9, 2, 3, 2, 0)]     // no padding: 3x4
    [DataRow(1, 8, 5, 3, 2, 3, 0)]     // stride above the kernel: rows and columns no window reaches
    [DataRow(1, 3, 3, 2, 5, 1, 2)]     // a kernel wider than the image
    [DataRow(2, 4, 3, 5, 1, 1, 0)]     // 1x1: a copy
    public void Im2ColMatchesTheScalarReference(int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        var x = RandomFloats(501 + kernel, images * height * width * channels, -2f, 2f);
        var expected = ReferenceIm2Col(x, images, height, width, channels, kernel, stride, padding);
        var (inBuffer, inView) = UploadAtOffset(x, 3);
        // Guard values inside the view too: every element, the padding's zeros included, must be written.
        var (colBuffer, colView) = UploadAtOffset(Filled(expected.Length, Guard), 5);
        using (inBuffer) using (colBuffer)
        {
            Acc.Im2Col(inView, images, height, width, channels, kernel, stride, padding, colView);
            string what = $"im2col {images}x{height}x{width}x{channels} k{kernel} s{stride} p{padding}";
            AssertSameBits(expected, Download(colView), what);
            AssertGuardsIntact(colBuffer, 5, expected.Length, what);
            CollectionAssert.AreEqual(x, Download(inView), "the input changed");
        }
    }

    [TestMethod]
    [DataRow(2, 5, 7, 3, 3, 2, 1)]
    [DataRow(3, 28, 28, 1, 4, 2, 1)]   // the decoder's last layer, 14 -> 28
    [DataRow(2, 14, 14, 32, 4, 2, 1)]  // 7 -> 14
    [DataRow(2, 6, 5, 2, 3, 1, 1)]
    [DataRow(2, 7, 9, 2, 3, 2, 0)]
    [DataRow(1, 8, 5, 3, 2, 3, 0)]     // pixels no window reaches: 0
    [DataRow(1, 3, 3, 2, 5, 1, 2)]
    [DataRow(2, 4, 3, 5, 1, 1, 0)]
    [DataRow(1, 5, 5, 9, 3, 1, 1)]     // 9 channels: the CPU backend's vector adds and their tail
    public void Col2ImGathersInTheContractsOrderAndMatchesTheScatter(int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        var columns = RandomFloats(511 + kernel, images * outHeight * outWidth * kernel * kernel * channels, -2f, 2f);
        var (sum, magnitude) = ReferenceCol2Im(columns, images, height, width, channels, kernel, stride, padding);
        var ordered = OrderedCol2Im(columns, images, height, width, channels, kernel, stride, padding);
        var (colBuffer, colView) = UploadAtOffset(columns, 4);
        // The output starts as guard values: Col2Im overwrites, it does not accumulate.
        var (outBuffer, outView) = UploadAtOffset(Filled(sum.Length, Guard), 3);
        using (colBuffer) using (outBuffer)
        {
            Acc.Col2Im(colView, images, height, width, channels, kernel, stride, padding, outView);
            string what = $"col2im {images}x{height}x{width}x{channels} k{kernel} s{stride} p{padding}";
            var actual = Download(outView);
            AssertSameBits(ordered, actual, what + " (kh, then kw ascending, in float)");
            AssertClose(sum, actual, i => 1.2e-7 * kernel * kernel * magnitude[i], what + " against the double scatter");
            AssertGuardsIntact(outBuffer, 3, sum.Length, what);
            CollectionAssert.AreEqual(columns, Download(colView), "the columns changed");
            if (stride > kernel) Assert.IsTrue(actual.Any(v => v == 0f), "no pixel was out of every window's reach");
        }
    }

    [TestMethod]
    [DataRow(2, 5, 7, 3, 3, 2, 1)]
    [DataRow(2, 28, 28, 1, 4, 2, 1)]
    [DataRow(1, 14, 14, 32, 4, 2, 1)]
    [DataRow(2, 6, 5, 2, 3, 1, 1)]
    [DataRow(1, 8, 5, 3, 2, 3, 0)]
    public void Col2ImIsTheAdjointOfIm2Col(int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        var x = RandomFloats(521, images * height * width * channels, -1f, 1f);
        var y = RandomFloats(522, images * outHeight * outWidth * kernel * kernel * channels, -1f, 1f);
        using var dx = Upload(x);
        using var dy = Upload(y);
        using var columns = Acc.Allocate<float>(y.Length);
        using var back = Acc.Allocate<float>(x.Length);
        Acc.Im2Col(dx, images, height, width, channels, kernel, stride, padding, columns);
        Acc.Col2Im(dy, images, height, width, channels, kernel, stride, padding, back);
        float[] c = Download(columns), b = Download(back);
        double left = 0, right = 0, magnitude = 0;
        for (int i = 0; i < y.Length; i++)
        {
            left += (double)c[i] * y[i];
            magnitude += Math.Abs((double)c[i] * y[i]);
        }
        for (int j = 0; j < x.Length; j++) right += (double)x[j] * b[j];
        // Col2Im's float sums of at most kernel^2 terms are all the rounding there is.
        double tolerance = 1.2e-7 * kernel * kernel * magnitude + 1e-9;
        Assert.AreEqual(left, right, tolerance, $"<Im2Col(x), y> = {left:R}, <x, Col2Im(y)> = {right:R}");
        Assert.IsGreaterThan(0.1 * Math.Sqrt(y.Length), magnitude, "inputs too small to test anything");
    }

    [TestMethod]
    [DataRow(Activation.Identity, 37, 5)]
    [DataRow(Activation.Relu, 37, 5)]
    [DataRow(Activation.LeakyRelu, 37, 5)]
    [DataRow(Activation.Tanh, 37, 5)]
    [DataRow(Activation.Sigmoid, 37, 5)]
    [DataRow(Activation.Relu, 2 * 14 * 14, 32)]   // a transposed convolution's 14x14x32 output
    [DataRow(Activation.Identity, 2 * 28 * 28, 1)] // the decoder's logits: one channel
    [DataRow(Activation.Sigmoid, 3, 19)]
    [DataRow(Activation.Tanh, 1, 3)]
    public void BiasActivationAddsTheBiasThenTheEpiloguesActivation(Activation activation, int rows, int columns)
    {
        const float slope = 0.2f;
        var values = RandomFloats(531 + rows, rows * columns, -4f, 4f);
        var bias = RandomFloats(532 + columns, columns, -1f, 1f);
        var sum = new float[values.Length];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++) sum[i * columns + j] = values[i * columns + j] + bias[j];

        var (valueBuffer, valueView) = UploadAtOffset(values, 2);
        var (biasBuffer, biasView) = UploadAtOffset(bias, 1);
        using (valueBuffer) using (biasBuffer)
        {
            Acc.BiasActivation(valueView, rows, columns, biasView, activation, slope);
            var actual = Download(valueView);
            string what = $"bias activation {activation} {rows}x{columns}";
            AssertGuardsIntact(valueBuffer, 2, values.Length, what);
            CollectionAssert.AreEqual(bias, Download(biasView), "the bias changed");

            // The same bits as ActivationForward of the float sums on this backend.
            using var forward = Upload(sum);
            Acc.ActivationForward(activation, forward, forward, slope);
            AssertSameBits(Download(forward), actual, what + " against ActivationForward");

            // The same as a GEMM with that bias and activation in its epilogue: values times the identity
            // (exact: every other term is a zero). The piecewise-linear activations to the bit; tanh and
            // sigmoid within a few ulps, since the CPU epilogue may take them vectorised or scalar.
            using var a = Upload(values);
            using var identity = Upload(Enumerable.Range(0, columns * columns).Select(e => e / columns == e % columns ? 1f : 0f).ToArray());
            using var c = Acc.Allocate<float>(values.Length);
            using var dBias = Upload(bias);
            Acc.Gemm(Transpose.N, Transpose.N, rows, columns, columns, 1f, a, identity, 0f, c, Epilogue.WithBias(dBias, activation, slope));
            var gemm = Download(c);
            if (activation is Activation.Tanh or Activation.Sigmoid)
                AssertClose(ToDouble(gemm), actual, 5e-7, 1e-7, what + " against the GEMM epilogue");
            else
                AssertSameBits(gemm, actual, what + " against the GEMM epilogue");

            var reference = sum.Select(v => (double)v switch
            {
                var s when activation == Activation.Relu => Math.Max(s, 0),
                var s when activation == Activation.LeakyRelu => s > 0 ? s : slope * s,
                var s when activation == Activation.Tanh => Math.Tanh(s),
                var s when activation == Activation.Sigmoid => 1 / (1 + Math.Exp(-s)),
                var s => s,
            }).ToArray();
            AssertClose(reference, actual, 1e-6, 1e-7, what + " against the double reference");
        }
    }

    [TestMethod]
    public void ConvolutionOpsRejectWrongShapesBeforeAnyLaunch()
    {
        // 2 images of 5x7x3, kernel 3, stride 2, padding 1: 3x4 windows of 27 values.
        const int n = 2, h = 5, w = 7, c = 3, k = 3, s = 2, p = 1;
        const int pixels = n * h * w * c, windows = n * 3 * 4 * k * k * c;
        using var input = Upload(RandomFloats(541, pixels));
        using var columns = Upload(Filled(windows, Guard));
        using var output = Upload(Filled(pixels, Guard));
        using var shared = Upload(Filled(pixels + windows, Guard));
        var cols = columns.View;
        var o = output.View;

        // Lengths.
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentException>(() => Acc.Im2Col(input.Slice(0, pixels - 1), n, h, w, c, k, s, p, cols)).ParamName);
        var wrongColumns = Assert.ThrowsExactly<ArgumentException>(() => Acc.Im2Col(input, n, h, w, c, k, s, p, cols.Slice(1, windows - 1)));
        Assert.AreEqual("columns", wrongColumns.ParamName);
        StringAssert.Contains(wrongColumns.Message, "24x27");
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Im2Col(input, n + 1, h, w, c, k, s, p, cols));
        Assert.ThrowsExactly<ArgumentException>(() => Acc.Im2Col(input, n, h, w, c, k, s, p, default));
        Assert.AreEqual("columns", Assert.ThrowsExactly<ArgumentException>(() => Acc.Col2Im(cols.Slice(0, windows - 1), n, h, w, c, k, s, p, o)).ParamName);
        Assert.AreEqual("output", Assert.ThrowsExactly<ArgumentException>(() => Acc.Col2Im(cols, n, h, w, c, k, s, p, o.Slice(0, pixels - 1))).ParamName);
        // Sizes and settings out of range.
        foreach (var op in new Action<int, int, int, int, int, int, int>[]
        {
            (images, height, width, channels, kernel, stride, padding) => Acc.Im2Col(input, images, height, width, channels, kernel, stride, padding, cols),
            (images, height, width, channels, kernel, stride, padding) => Acc.Col2Im(cols, images, height, width, channels, kernel, stride, padding, o),
        })
        {
            Assert.AreEqual("images", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(0, h, w, c, k, s, p)).ParamName);
            Assert.AreEqual("height", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(n, 0, w, c, k, s, p)).ParamName);
            Assert.AreEqual("width", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(n, h, -7, c, k, s, p)).ParamName);
            Assert.AreEqual("channels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(n, h, w, 0, k, s, p)).ParamName);
            Assert.AreEqual("kernel", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(n, h, w, c, 0, s, p)).ParamName);
            Assert.AreEqual("stride", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(n, h, w, c, k, 0, p)).ParamName);
            Assert.AreEqual("padding", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => op(n, h, w, c, k, s, -1)).ParamName);
            // The stride must divide height + 2 padding − kernel (6 + 2 − 3 = 5), and the kernel fit the padded image.
            var ragged = Assert.ThrowsExactly<ArgumentException>(() => op(n, 6, w, c, k, s, p));
            Assert.AreEqual("height", ragged.ParamName);
            StringAssert.Contains(ragged.Message, "not a multiple of stride 2");
            Assert.AreEqual("width", Assert.ThrowsExactly<ArgumentException>(() => op(n, h, 8, c, k, s, p)).ParamName);
            Assert.AreEqual("height", Assert.ThrowsExactly<ArgumentException>(() => op(n, h, w, c, 8, 1, p)).ParamName);
        }
        // Output over input: windows of one buffer that share elements.
        Assert.AreEqual("columns", Assert.ThrowsExactly<ArgumentException>(
            () => Acc.Im2Col(shared.Slice(0, pixels), n, h, w, c, k, s, p, shared.Slice(pixels - 1, windows))).ParamName);
        Assert.AreEqual("output", Assert.ThrowsExactly<ArgumentException>(
            () => Acc.Col2Im(shared.Slice(0, windows), n, h, w, c, k, s, p, shared.Slice(windows - 5, pixels))).ParamName);

        using var bias = Upload(RandomFloats(542, c));
        using var values = Upload(Filled(10 * c, Guard));
        var v = values.View;
        Assert.AreEqual("values", Assert.ThrowsExactly<ArgumentException>(() => Acc.BiasActivation(v.Slice(0, 29), 10, c, bias, Activation.Relu)).ParamName);
        Assert.AreEqual("bias", Assert.ThrowsExactly<ArgumentException>(() => Acc.BiasActivation(v, 10, c, bias.Slice(0, 2), Activation.Relu)).ParamName);
        Assert.AreEqual("bias", Assert.ThrowsExactly<ArgumentException>(() => Acc.BiasActivation(v, 10, c, default, Activation.Relu)).ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => Acc.BiasActivation(v, 5, 2 * c, bias, Activation.Relu));
        Assert.AreEqual("rows", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.BiasActivation(v, 0, c, bias, Activation.Relu)).ParamName);
        Assert.AreEqual("columns", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.BiasActivation(v, 10, 0, bias, Activation.Relu)).ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Acc.BiasActivation(v, 10, c, bias, (Activation)9));
        Assert.AreEqual("values", Assert.ThrowsExactly<ArgumentException>(
            () => Acc.BiasActivation(v.Slice(0, 27), 9, c, v.Slice(26, c), Activation.Identity)).ParamName);

        Assert.IsTrue(Download(columns).All(x => x == Guard) && Download(output).All(x => x == Guard)
            && Download(shared).All(x => x == Guard) && Download(values).All(x => x == Guard), "a rejected op wrote to its output");
    }

    /// <summary>Im2Col from its definition, element by element.</summary>
    private static float[] ReferenceIm2Col(float[] x, int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        var columns = new float[images * outHeight * outWidth * kernel * kernel * channels];
        int e = 0;
        for (int n = 0; n < images; n++)
        for (int oh = 0; oh < outHeight; oh++)
        for (int ow = 0; ow < outWidth; ow++)
        for (int kh = 0; kh < kernel; kh++)
        for (int kw = 0; kw < kernel; kw++)
        for (int c = 0; c < channels; c++, e++)
        {
            int y = oh * stride - padding + kh, xx = ow * stride - padding + kw;
            columns[e] = y >= 0 && y < height && xx >= 0 && xx < width ? x[((n * height + y) * width + xx) * channels + c] : 0f;
        }
        return columns;
    }

    /// <summary>The adjoint by its definition: every columns element added, in double, to the pixel Im2Col took it from; and the sums of magnitudes.</summary>
    private static (double[] Sum, double[] Magnitude) ReferenceCol2Im(float[] columns, int images, int height, int width, int channels,
        int kernel, int stride, int padding)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        var sum = new double[images * height * width * channels];
        var magnitude = new double[sum.Length];
        int e = 0;
        for (int n = 0; n < images; n++)
        for (int oh = 0; oh < outHeight; oh++)
        for (int ow = 0; ow < outWidth; ow++)
        for (int kh = 0; kh < kernel; kh++)
        for (int kw = 0; kw < kernel; kw++)
        for (int c = 0; c < channels; c++, e++)
        {
            int y = oh * stride - padding + kh, x = ow * stride - padding + kw;
            if (y < 0 || y >= height || x < 0 || x >= width) continue;
            int pixel = ((n * height + y) * width + x) * channels + c;
            sum[pixel] += columns[e];
            magnitude[pixel] += Math.Abs(columns[e]);
        }
        return (sum, magnitude);
    }

    /// <summary>Col2Im as the contract orders it: per element, float sums from 0 over kh ascending, then kw ascending.</summary>
    private static float[] OrderedCol2Im(float[] columns, int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        var output = new float[images * height * width * channels];
        for (int n = 0; n < images; n++)
        for (int h = 0; h < height; h++)
        for (int w = 0; w < width; w++)
        for (int c = 0; c < channels; c++)
        {
            float sum = 0f;
            for (int kh = 0; kh < kernel; kh++)
            for (int kw = 0; kw < kernel; kw++)
            {
                int y = h + padding - kh, x = w + padding - kw;
                if (y < 0 || x < 0 || y % stride != 0 || x % stride != 0 || y / stride >= outHeight || x / stride >= outWidth) continue;
                sum += columns[((n * outHeight + y / stride) * outWidth + x / stride) * kernel * kernel * channels + (kh * kernel + kw) * channels + c];
            }
            output[((n * height + h) * width + w) * channels + c] = sum;
        }
        return output;
    }
}
