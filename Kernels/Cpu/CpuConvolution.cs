using System.Numerics.Tensors;

namespace IlgpuVae.Kernels.Cpu;

/// <summary>
/// The convolution ops on the CPU, channels-last. Im2Col copies each window's rows of kernel pixels
/// (contiguous in NHWC) as whole runs and clears what lies in the padding; Col2Im gathers every output
/// pixel's channels from the window positions that reach it, kh ascending, then kw ascending, adding
/// channel runs from 0 in that order (the ILGPU kernel adds the same terms in the same order, so the two
/// agree bit for bit); BiasActivation adds the bias row by row and runs <see cref="CpuActivations.Forward"/>
/// over each thread's rows, as ActivationForward does. Rows (or pixel rows) are split statically over the threads.
/// </summary>
internal static class CpuConvolution
{
    /// <summary>Below this many channels Col2Im adds element by element instead of through TensorPrimitives.</summary>
    private const int VectorChannels = 8;

    public static void Im2Col(CpuAccelerator acc, DeviceView<float> input, int images, int height, int width, int channels,
        int kernel, int stride, int padding, DeviceView<float> columns)
    {
        float[] X = input.Array(), C = columns.Array();
        int xo = input.Offset, co = columns.Offset;
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        int rowLength = kernel * kernel * channels, kernelRow = kernel * channels, rows = images * outHeight * outWidth;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 16384 / rowLength), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int ow = r % outWidth, t = r / outWidth, oh = t % outHeight, n = t / outHeight;
                int y0 = oh * stride - padding, x0 = ow * stride - padding;
                // The kernel columns whose pixels lie inside the image: x0 + kw in [0, width).
                int kwStart = Math.Max(0, -x0), kwEnd = (int)Math.Min(kernel, (long)width - x0);
                var row = C.AsSpan(co + r * rowLength, rowLength);
                for (int kh = 0; kh < kernel; kh++)
                {
                    var segment = row.Slice(kh * kernelRow, kernelRow);
                    int y = y0 + kh;
                    if (y < 0 || y >= height || kwStart >= kwEnd)
                    {
                        segment.Clear();
                        continue;
                    }
                    segment[..(kwStart * channels)].Clear();
                    X.AsSpan(xo + ((n * height + y) * width + x0 + kwStart) * channels, (kwEnd - kwStart) * channels)
                        .CopyTo(segment[(kwStart * channels)..]);
                    segment[(kwEnd * channels)..].Clear();
                }
            }
        });
    }

    public static void Col2Im(CpuAccelerator acc, DeviceView<float> columns, int images, int height, int width, int channels,
        int kernel, int stride, int padding, DeviceView<float> output)
    {
        float[] S = columns.Array(), D = output.Array();
        int so = columns.Offset, dO = output.Offset;
        int outHeight = ConvolutionShape.Output(height, kernel, stride, padding), outWidth = ConvolutionShape.Output(width, kernel, stride, padding);
        int rowLength = kernel * kernel * channels;
        CpuParallel.For(acc, images * height, minChunk: Math.Max(1, 8192 / (width * channels)), (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                int n = b / height, h = b - n * height;
                for (int w = 0; w < width; w++)
                {
                    var sum = D.AsSpan(dO + (b * width + w) * channels, channels);
                    sum.Clear();
                    // Window oh reaches row h at kh = h + padding − oh * stride: as kh rises, oh falls.
                    for (int kh = 0; kh < kernel; kh++)
                    {
                        int y = h + padding - kh;
                        if (y < 0) break;
                        if (y % stride != 0) continue;
                        int oh = y / stride;
                        if (oh >= outHeight) continue;
                        for (int kw = 0; kw < kernel; kw++)
                        {
                            int x = w + padding - kw;
                            if (x < 0) break;
                            if (x % stride != 0) continue;
                            int ow = x / stride;
                            if (ow >= outWidth) continue;
                            var terms = S.AsSpan(so + ((n * outHeight + oh) * outWidth + ow) * rowLength + (kh * kernel + kw) * channels, channels);
                            if (channels >= VectorChannels) TensorPrimitives.Add(sum, terms, sum);
                            else for (int c = 0; c < channels; c++) sum[c] += terms[c];
                        }
                    }
                }
            }
        });
    }

    public static void BiasActivation(CpuAccelerator acc, DeviceView<float> values, int rows, int columns, DeviceView<float> bias,
        Activation activation, float leakySlope)
    {
        float[] V = values.Array(), B = bias.Array();
        int vo = values.Offset, bo = bias.Offset;
        CpuParallel.For(acc, rows, minChunk: Math.Max(1, 16384 / columns), (r0, r1) =>
        {
            var b = B.AsSpan(bo, columns);
            for (int i = r0; i < r1; i++)
            {
                var row = V.AsSpan(vo + i * columns, columns);
                TensorPrimitives.Add(row, b, row);
            }
            if (activation == Activation.Identity) return;
            var block = V.AsSpan(vo + r0 * columns, (r1 - r0) * columns);
            CpuActivations.Forward(activation, block, block, leakySlope);
        });
    }
}
