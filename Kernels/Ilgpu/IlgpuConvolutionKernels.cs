using ILGPU;

namespace IlgpuVae.Kernels.Ilgpu;

/// <summary>The shape of an Im2Col or Col2Im launch: the image batch, the square kernel, and the output size it gives.</summary>
internal readonly struct ConvolutionArgs
{
    public ConvolutionArgs(int images, int height, int width, int channels, int kernel, int stride, int padding)
    {
        Images = images; Height = height; Width = width; Channels = channels; Kernel = kernel; Stride = stride; Padding = padding;
        OutHeight = ConvolutionShape.Output(height, kernel, stride, padding);
        OutWidth = ConvolutionShape.Output(width, kernel, stride, padding);
    }

    public readonly int Images, Height, Width, Channels, Kernel, Stride, Padding, OutHeight, OutWidth;
}

/// <summary>
/// The convolution kernels, NHWC, grid-strided over their outputs (a few groups cover any batch, which
/// is what ILGPU's CPU accelerator needs). Col2Im is a gather, one thread per output element, adding from
/// 0 the terms of the kernel positions that reach it, kh ascending, then kw ascending: the CPU backend's
/// order, so the two give the same bits, and no atomics.
/// </summary>
internal static class IlgpuConvolutionKernels
{
    /// <summary>columns[r, (kh K + kw) C + c] = input(n, oh S − P + kh, ow S − P + kw, c), or 0 outside the image.</summary>
    public static void Im2Col(ArrayView<float> input, ArrayView<float> columns, ConvolutionArgs args)
    {
        int channels = args.Channels, kernel = args.Kernel, rowLength = kernel * kernel * channels;
        int count = columns.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int r = e / rowLength, q = e - r * rowLength;
            int k = q / channels, c = q - k * channels, kh = k / kernel, kw = k - kh * kernel;
            int ow = r % args.OutWidth, t = r / args.OutWidth, oh = t % args.OutHeight, n = t / args.OutHeight;
            int y = oh * args.Stride - args.Padding + kh, x = ow * args.Stride - args.Padding + kw;
            columns[e] = y >= 0 && y < args.Height && x >= 0 && x < args.Width
                ? input[((n * args.Height + y) * args.Width + x) * channels + c]
                : 0f;
        }
    }

    /// <summary>output(n, h, w, c) = the sum, kh then kw ascending, of the columns elements Im2Col copies from it.</summary>
    public static void Col2Im(ArrayView<float> columns, ArrayView<float> output, ConvolutionArgs args)
    {
        int channels = args.Channels, kernel = args.Kernel, stride = args.Stride, rowLength = kernel * kernel * channels;
        int count = output.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int p = e / channels, c = e - p * channels;
            int w = p % args.Width, t = p / args.Width, h = t % args.Height, n = t / args.Height;
            float sum = 0f;
            for (int kh = 0; kh < kernel; kh++)
            {
                int y = h + args.Padding - kh;
                if (y < 0) break;
                if (y % stride != 0) continue;
                int oh = y / stride;
                if (oh >= args.OutHeight) continue;
                for (int kw = 0; kw < kernel; kw++)
                {
                    int x = w + args.Padding - kw;
                    if (x < 0) break;
                    if (x % stride != 0) continue;
                    int ow = x / stride;
                    if (ow >= args.OutWidth) continue;
                    sum += columns[((n * args.OutHeight + oh) * args.OutWidth + ow) * rowLength + (kh * kernel + kw) * channels + c];
                }
            }
            output[e] = sum;
        }
    }

    /// <summary>values[i, j] = act(values[i, j] + bias[j]) in place, the GEMM epilogue's addition and activation.</summary>
    public static void BiasActivation(ArrayView<float> values, ArrayView<float> bias, int columns, int activation, float slope)
    {
        int count = values.IntLength;
        for (int e = Grid.GlobalIndex.X; e < count; e += Grid.DimX * Group.DimX)
        {
            int j = e % columns;
            values[e] = IlgpuActivationMath.Apply(activation, values[e] + bias[j], slope);
        }
    }
}
