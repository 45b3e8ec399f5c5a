namespace IlgpuVae.Kernels;

/// <summary>
/// The ops of a convolutional VAE's layers, on channels-last (NHWC) activations: element (n, h, w, c) of
/// images x height x width x channels is at ((n * height + h) * width + w) * channels + c. A square
/// convolution (kernel K, stride S, padding P) with weight [OC, K, K, C] is <see cref="Im2Col"/>
/// followed by the GEMM y = columns · W^T with bias and activation in its epilogue: its rows are the
/// output pixels, so y is the NHWC output. Its backward is dW = dy^T · columns, db = <see cref="BiasGradient"/>,
/// dcolumns = dy · W and dx = <see cref="Col2Im"/>(dcolumns). A transposed convolution is the adjoint:
/// columns = u · W^T (W [K K OC, IC]), output = <see cref="Col2Im"/>(columns), then
/// <see cref="BiasActivation"/>; its backward takes <see cref="Im2Col"/> of the output's gradient.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// The convolution's input windows as rows: columns has images * OH * OW rows of kernel * kernel * channels,
    /// OH = <see cref="ConvolutionShape.Output(int, int, int, int)"/>(height, kernel, stride, padding), OW likewise. Row r = (n * OH + oh) * OW + ow,
    /// column (kh * kernel + kw) * channels + c holds input(n, oh * stride − padding + kh, ow * stride − padding + kw, c),
    /// or 0 where that lies outside the image. Every element of columns is written. The views must not overlap.
    /// </summary>
    public void Im2Col(DeviceView<float> input, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> columns)
    {
        ThrowIfDisposed();
        var (outHeight, outWidth) = RequireConvolution(images, height, width, channels, kernel, stride, padding);
        RequireLength(input, (long)images * height * width * channels, nameof(input), $"{images}x{height}x{width}x{channels}, NHWC");
        RequireLength(columns, (long)images * outHeight * outWidth * kernel * kernel * channels, nameof(columns),
            $"{(long)images * outHeight * outWidth}x{(long)kernel * kernel * channels}: {images}x{outHeight}x{outWidth} windows of {kernel}x{kernel}x{channels}");
        RequireApart(input, columns, nameof(columns));
        Im2ColCore(input, images, height, width, channels, kernel, stride, padding, columns);
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col"/> with the same shape arguments: output (images x height x width x
    /// channels, NHWC) is overwritten with, for every element, the sum of the columns elements Im2Col would
    /// have copied from it (0 where no window reaches it). Each element is a gather over the kernel positions
    /// that reach it, kh ascending, then kw ascending, added in float from 0 in that order on every backend:
    /// no atomics, so the result is deterministic and the backends agree bit for bit. The views must not overlap.
    /// </summary>
    public void Col2Im(DeviceView<float> columns, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> output)
    {
        ThrowIfDisposed();
        var (outHeight, outWidth) = RequireConvolution(images, height, width, channels, kernel, stride, padding);
        RequireLength(columns, (long)images * outHeight * outWidth * kernel * kernel * channels, nameof(columns),
            $"{(long)images * outHeight * outWidth}x{(long)kernel * kernel * channels}: {images}x{outHeight}x{outWidth} windows of {kernel}x{kernel}x{channels}");
        RequireLength(output, (long)images * height * width * channels, nameof(output), $"{images}x{height}x{width}x{channels}, NHWC");
        RequireApart(columns, output, nameof(output));
        Col2ImCore(columns, images, height, width, channels, kernel, stride, padding, output);
    }

    /// <summary>
    /// In place, values[i, j] = act(values[i, j] + bias[j]) for a rows x columns matrix: the bias and
    /// activation a GEMM epilogue adds, for results that come from elsewhere (a transposed convolution's
    /// <see cref="Col2Im"/>). The same addition, then the same activation functions as the GEMM epilogue
    /// and <see cref="ActivationForward"/>. bias must not overlap values.
    /// </summary>
    public void BiasActivation(DeviceView<float> values, int rows, int columns, DeviceView<float> bias, Activation activation,
        float leakySlope = 0.01f)
    {
        ThrowIfDisposed();
        RequirePositive(rows, nameof(rows)); RequirePositive(columns, nameof(columns));
        RequireActivation(activation);
        RequireLength(values, (long)rows * columns, nameof(values), $"{rows}x{columns}");
        RequireLength(bias, columns, nameof(bias), $"{columns}");
        RequireApart(bias, values, nameof(values));
        BiasActivationCore(values, rows, columns, bias, activation, leakySlope);
    }

    /// <summary>The sizes of a convolution, checked; returns its output height and width.</summary>
    private static (int OutHeight, int OutWidth) RequireConvolution(int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        RequirePositive(images, nameof(images)); RequirePositive(channels, nameof(channels));
        return (ConvolutionShape.Output(height, kernel, stride, padding, nameof(height)),
            ConvolutionShape.Output(width, kernel, stride, padding, nameof(width)));
    }

    protected abstract void Im2ColCore(DeviceView<float> input, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> columns);
    protected abstract void Col2ImCore(DeviceView<float> columns, int images, int height, int width, int channels, int kernel, int stride, int padding,
        DeviceView<float> output);
    protected abstract void BiasActivationCore(DeviceView<float> values, int rows, int columns, DeviceView<float> bias, Activation activation,
        float leakySlope);
}
