using IlgpuVae.Kernels;
using IlgpuVae.Kernels.Cpu;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// A convolution layer (Im2Col, then a GEMM with bias and activation in its epilogue) and a transposed
/// convolution layer (a GEMM, Col2Im, then BiasActivation) built from the contract's ops, with their
/// backward from the ops too (ActivationBackward, BiasGradient, the GEMMs, Col2Im and Im2Col), against
/// central finite differences of a double-precision forward written here from the layers' definitions
/// (PyTorch's Conv2d and ConvTranspose2d, channels-last), for every weight, bias and input element.
/// The loss is L = sum g ∘ y for a fixed random g, so dL/dy = g.
/// </summary>
[TestClass]
public sealed class ConvolutionGradientTests
{
    private const float Slope = 0.1f;
    private const double H = 1e-6;

    [TestMethod]
    [DataRow(2, 5, 7, 2, 3, 3, 2, 1, Activation.Relu)]       // ragged, kernel 3 stride 2 padding 1: 3x4
    [DataRow(2, 6, 6, 3, 2, 4, 2, 1, Activation.Tanh)]       // the VAE's kernel 4 stride 2 padding 1: 6 -> 3
    [DataRow(1, 5, 4, 2, 3, 3, 1, 0, Activation.LeakyRelu)]  // stride 1, no padding: 3x2
    [DataRow(2, 5, 5, 2, 2, 3, 2, 1, Activation.Identity)]
    [DataRow(1, 8, 5, 2, 2, 2, 3, 0, Activation.Sigmoid)]    // stride above the kernel: pixels that reach no output
    public void ConvolutionBackwardMatchesFiniteDifferences(int images, int height, int width, int inChannels, int outChannels,
        int kernel, int stride, int padding, Activation activation)
    {
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        int rows = images * outHeight * outWidth, window = kernel * kernel * inChannels;
        var rng = new Random(images * 1000 + height * 100 + kernel * 10 + stride);
        float[] x = Values(rng, images * height * width * inChannels, 1f);
        float[] weight = Values(rng, outChannels * window, 0.5f);
        float[] bias = Values(rng, outChannels, 0.3f);
        float[] g = Values(rng, rows * outChannels, 1f);

        using var acc = new CpuAccelerator();
        using var dX = acc.Upload<float>(x);
        using var dW = acc.Upload<float>(weight);
        using var dB = acc.Upload<float>(bias);
        using var dG = acc.Upload<float>(g);
        using var columns = acc.Allocate<float>(rows * window);
        using var y = acc.Allocate<float>(rows * outChannels);
        // Forward: the GEMM's rows are the output pixels, so its result is the NHWC output.
        acc.Im2Col(dX, images, height, width, inChannels, kernel, stride, padding, columns);
        acc.Gemm(Transpose.N, Transpose.T, rows, outChannels, window, 1f, columns, dW, 0f, y, Epilogue.WithBias(dB, activation, Slope));
        // Backward.
        using var dPre = acc.Allocate<float>(rows * outChannels);
        using var gradW = acc.Allocate<float>(outChannels * window);
        using var gradB = acc.Allocate<float>(outChannels);
        using var dColumns = acc.Allocate<float>(rows * window);
        using var gradX = acc.Allocate<float>(x.Length);
        acc.ActivationBackward(activation, y, dG, dPre, Slope);
        acc.Gemm(Transpose.T, Transpose.N, outChannels, window, rows, 1f, dPre, columns, 0f, gradW);
        acc.BiasGradient(dPre, rows, outChannels, gradB);
        acc.Gemm(Transpose.N, Transpose.N, rows, window, outChannels, 1f, dPre, dW, 0f, dColumns);
        acc.Col2Im(dColumns, images, height, width, inChannels, kernel, stride, padding, gradX);

        var p = new Parameters(x, weight, bias);
        double[] Forward(Parameters q) => ConvolutionForward(q, images, height, width, inChannels, outChannels, kernel, stride, padding, activation);
        AssertForward(Forward(p), acc.Download(y.View));
        double Loss(Parameters q) => Dot(Forward(q), g);
        AssertGradient("weight", p.Weight, acc.Download(gradW.View), () => Loss(p));
        AssertGradient("bias", p.Bias, acc.Download(gradB.View), () => Loss(p));
        AssertGradient("input", p.Input, acc.Download(gradX.View), () => Loss(p));
    }

    [TestMethod]
    [DataRow(2, 5, 7, 3, 2, 3, 2, 1, Activation.Relu)]       // 3x4 -> 5x7
    [DataRow(2, 6, 6, 3, 2, 4, 2, 1, Activation.Identity)]   // the VAE decoder's kernel 4 stride 2 padding 1: 3 -> 6
    [DataRow(1, 5, 4, 2, 3, 3, 1, 0, Activation.Tanh)]       // stride 1, no padding: 3x2 -> 5x4
    [DataRow(2, 4, 4, 2, 1, 4, 2, 1, Activation.Sigmoid)]    // one output channel, as the decoder's last layer: 2 -> 4
    [DataRow(1, 8, 5, 2, 2, 2, 3, 0, Activation.LeakyRelu)]  // stride above the kernel: output pixels no input reaches
    public void TransposedConvolutionBackwardMatchesFiniteDifferences(int images, int height, int width, int inChannels, int outChannels,
        int kernel, int stride, int padding, Activation activation)
    {
        // height x width is the large image the layer makes; the small one it reads is the convolution's output size.
        int smallHeight = ConvolutionShape.Output(height, kernel, stride, padding), smallWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        int rows = images * smallHeight * smallWidth, window = kernel * kernel * outChannels, pixels = images * height * width;
        var rng = new Random(images * 1000 + height * 100 + kernel * 10 + stride + 7);
        float[] u = Values(rng, rows * inChannels, 1f);
        float[] weight = Values(rng, window * inChannels, 0.5f);
        float[] bias = Values(rng, outChannels, 0.3f);
        float[] g = Values(rng, pixels * outChannels, 1f);

        using var acc = new CpuAccelerator();
        using var dU = acc.Upload<float>(u);
        using var dW = acc.Upload<float>(weight);
        using var dB = acc.Upload<float>(bias);
        using var dG = acc.Upload<float>(g);
        using var columns = acc.Allocate<float>(rows * window);
        using var output = acc.Allocate<float>(pixels * outChannels);
        // Forward: columns = u · W^T (W is [K K OC, IC]), Col2Im scatters them as the gather it is, then bias and activation.
        acc.Gemm(Transpose.N, Transpose.T, rows, window, inChannels, 1f, dU, dW, 0f, columns);
        acc.Col2Im(columns, images, height, width, outChannels, kernel, stride, padding, output);
        acc.BiasActivation(output, pixels, outChannels, dB, activation, Slope);
        // Backward.
        using var dPre = acc.Allocate<float>(pixels * outChannels);
        using var gradB = acc.Allocate<float>(outChannels);
        using var dColumns = acc.Allocate<float>(rows * window);
        using var gradW = acc.Allocate<float>(weight.Length);
        using var gradU = acc.Allocate<float>(u.Length);
        acc.ActivationBackward(activation, output, dG, dPre, Slope);
        acc.BiasGradient(dPre, pixels, outChannels, gradB);
        acc.Im2Col(dPre, images, height, width, outChannels, kernel, stride, padding, dColumns);
        acc.Gemm(Transpose.T, Transpose.N, window, inChannels, rows, 1f, dColumns, dU, 0f, gradW);
        acc.Gemm(Transpose.N, Transpose.N, rows, inChannels, window, 1f, dColumns, dW, 0f, gradU);

        var p = new Parameters(u, weight, bias);
        double[] Forward(Parameters q) => TransposedForward(q, images, height, width, inChannels, outChannels, kernel, stride, padding, activation);
        AssertForward(Forward(p), acc.Download(output.View));
        double Loss(Parameters q) => Dot(Forward(q), g);
        AssertGradient("weight", p.Weight, acc.Download(gradW.View), () => Loss(p));
        AssertGradient("bias", p.Bias, acc.Download(gradB.View), () => Loss(p));
        AssertGradient("input", p.Input, acc.Download(gradU.View), () => Loss(p));
    }

    private sealed class Parameters(float[] input, float[] weight, float[] bias)
    {
        public double[] Input { get; } = input.Select(v => (double)v).ToArray();
        public double[] Weight { get; } = weight.Select(v => (double)v).ToArray();
        public double[] Bias { get; } = bias.Select(v => (double)v).ToArray();
    }

    /// <summary>
    /// Conv2d, NHWC: y(n, oh, ow, oc) = act(b[oc] + sum over kh, kw, c inside the image of
    /// W[oc, kh, kw, c] x(n, oh S − P + kh, ow S − P + kw, c)).
    /// </summary>
    private static double[] ConvolutionForward(Parameters p, int images, int height, int width, int inChannels, int outChannels,
        int kernel, int stride, int padding, Activation activation)
    {
        int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
        var y = new double[images * outHeight * outWidth * outChannels];
        for (int n = 0; n < images; n++)
        for (int oh = 0; oh < outHeight; oh++)
        for (int ow = 0; ow < outWidth; ow++)
        for (int oc = 0; oc < outChannels; oc++)
        {
            double s = p.Bias[oc];
            for (int kh = 0; kh < kernel; kh++)
            for (int kw = 0; kw < kernel; kw++)
            {
                int ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
                if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
                for (int c = 0; c < inChannels; c++)
                    s += p.Weight[((oc * kernel + kh) * kernel + kw) * inChannels + c] * p.Input[((n * height + ih) * width + iw) * inChannels + c];
            }
            y[((n * outHeight + oh) * outWidth + ow) * outChannels + oc] = Activate(activation, s);
        }
        return y;
    }

    /// <summary>
    /// ConvTranspose2d, NHWC: every input pixel (n, ih, iw) adds u(n, ih, iw, :) · W[kh, kw, oc, :] to output
    /// pixel (n, ih S − P + kh, iw S − P + kw, oc) where that lies inside the height x width image; then bias and activation.
    /// </summary>
    private static double[] TransposedForward(Parameters p, int images, int height, int width, int inChannels, int outChannels,
        int kernel, int stride, int padding, Activation activation)
    {
        int smallHeight = (height + 2 * padding - kernel) / stride + 1, smallWidth = (width + 2 * padding - kernel) / stride + 1;
        var output = new double[images * height * width * outChannels];
        for (int n = 0; n < images; n++)
        for (int ih = 0; ih < smallHeight; ih++)
        for (int iw = 0; iw < smallWidth; iw++)
        for (int kh = 0; kh < kernel; kh++)
        for (int kw = 0; kw < kernel; kw++)
        {
            int oh = ih * stride - padding + kh, ow = iw * stride - padding + kw;
            if (oh < 0 || oh >= height || ow < 0 || ow >= width) continue;
            for (int oc = 0; oc < outChannels; oc++)
            {
                double s = 0;
                for (int ic = 0; ic < inChannels; ic++)
                    s += p.Input[((n * smallHeight + ih) * smallWidth + iw) * inChannels + ic] * p.Weight[((kh * kernel + kw) * outChannels + oc) * inChannels + ic];
                output[((n * height + oh) * width + ow) * outChannels + oc] += s;
            }
        }
        for (int e = 0; e < output.Length; e++) output[e] = Activate(activation, output[e] + p.Bias[e % outChannels]);
        return output;
    }

    private static double Activate(Activation activation, double v) => activation switch
    {
        Activation.Relu => Math.Max(v, 0),
        Activation.LeakyRelu => v > 0 ? v : Slope * v,
        Activation.Tanh => Math.Tanh(v),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-v)),
        _ => v,
    };

    private static float[] Values(Random rng, int length, float scale)
        => Enumerable.Range(0, length).Select(_ => scale * (2f * rng.NextSingle() - 1f)).ToArray();

    private static double Dot(double[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void AssertForward(double[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"forward element {i}");
    }

    /// <summary>Every element of values (a tensor of the double forward's inputs) against the analytic gradient.</summary>
    private static void AssertGradient(string name, double[] values, float[] analytic, Func<double> loss)
    {
        Assert.HasCount(values.Length, analytic);
        double largest = 0;
        for (int e = 0; e < values.Length; e++)
        {
            double saved = values[e];
            values[e] = saved + H; double up = loss();
            values[e] = saved - H; double down = loss();
            values[e] = saved;
            double numeric = (up - down) / (2 * H);
            largest = Math.Max(largest, Math.Abs(numeric));
            double error = Math.Abs(analytic[e] - numeric) / Math.Max(1.0, Math.Abs(numeric));
            Assert.IsLessThan(1e-4, error, $"{name}[{e}]: analytic {analytic[e]:R}, numeric {numeric:R}");
        }
        Assert.IsGreaterThan(1e-3, largest, $"{name}: every gradient is near zero, which tests nothing");
    }
}
