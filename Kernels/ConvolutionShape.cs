namespace IlgpuVae.Kernels;

/// <summary>
/// The output size of a square convolution along one axis: size + 2 padding − kernel must be a
/// non-negative multiple of stride, and then out = (size + 2 padding − kernel) / stride + 1. A
/// transposed convolution runs the same relation backwards (its output is the convolution's input).
/// </summary>
public static class ConvolutionShape
{
    /// <summary>
    /// (size + 2 padding − kernel) / stride + 1. Throws ArgumentOutOfRangeException for size, kernel
    /// or stride below 1 or a negative padding, and ArgumentException when the kernel does not fit the
    /// padded size or the stride does not divide what is left.
    /// </summary>
    public static int Output(int size, int kernel, int stride, int padding) => Output(size, kernel, stride, padding, nameof(size));

    /// <summary><see cref="Output(int, int, int, int)"/>, its messages naming the size sizeName (height, width).</summary>
    internal static int Output(int size, int kernel, int stride, int padding, string sizeName)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(sizeName, size, $"{sizeName} must be > 0");
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "kernel must be > 0");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be > 0");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be >= 0");
        long span = size + 2L * padding - kernel;
        if (span < 0)
            throw new ArgumentException(
                $"a {kernel}-wide kernel does not fit {sizeName} {size} with padding {padding} ({sizeName} + 2 padding = {size + 2L * padding} < {kernel})",
                sizeName);
        if (span % stride != 0)
        {
            long over = span % stride, larger = size + stride - over, smaller = size - over;
            string fits = smaller >= 1 ? $"{sizeName} {smaller} or {larger} would fit" : $"{sizeName} {larger} would fit";
            throw new ArgumentException(
                $"{sizeName} {size} + 2 padding {padding} − kernel {kernel} = {span} is not a multiple of stride {stride} ({fits})",
                sizeName);
        }
        long output = span / stride + 1;
        if (output > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{sizeName} {size} with padding {padding} gives {output} outputs, more than an int holds");
        return (int)output;
    }
}
