namespace IlgpuVae.Kernels.Conformance;

/// <summary>The checks of the convolution ops (Im2Col, Col2Im, BiasActivation), on the conv VAE's own shapes and a ragged one.</summary>
public static partial class DeviceCheck
{
    /// <summary>A batch of NHWC images and a square kernel over them.</summary>
    private readonly record struct ConvolutionCheckShape(int Images, int Height, int Width, int Channels, int Kernel, int Stride, int Padding)
    {
        public int OutHeight => ConvolutionShape.Output(Height, Kernel, Stride, Padding);
        public int OutWidth => ConvolutionShape.Output(Width, Kernel, Stride, Padding);
        public int Pixels => Images * Height * Width * Channels;
        public int Columns => Images * OutHeight * OutWidth * Kernel * Kernel * Channels;

        public override string ToString() => $"{Images}x{Height}x{Width}x{Channels} k{Kernel} s{Stride} p{Padding}";
    }

    /// <summary>The encoder's two layers (28 -> 14 -> 7, also the decoder's two transposed ones backwards) and a ragged 5x7 batch.</summary>
    private static readonly ConvolutionCheckShape[] ConvolutionCheckShapes =
    [
        new(5, 28, 28, 1, 4, 2, 1),
        new(7, 14, 14, 32, 4, 2, 1),
        new(3, 5, 7, 3, 3, 2, 1),
    ];

    /// <summary>Over columns holding other values: every element must be written, the padding's zeros too.</summary>
    private static DeviceCheckResult Im2Col(CheckRun s, ConvolutionCheckShape shape)
    {
        var rng = s.NextRandom();
        using var input = s.Put(CheckRun.Uniform(rng, shape.Pixels, -1f, 1f));
        using var columns = s.Put(CheckRun.Uniform(rng, shape.Columns, -1f, 1f));
        var (n, h, w, c, k, stride, padding) = shape;
        s.Device.Im2Col(input.D, n, h, w, c, k, stride, padding, columns.D);
        s.Reference.Im2Col(input.R, n, h, w, c, k, stride, padding, columns.R);
        return s.Same($"im2col {shape}", columns, 0);
    }

    /// <summary>Over an output holding other values: Col2Im overwrites.</summary>
    private static DeviceCheckResult Col2Im(CheckRun s, ConvolutionCheckShape shape)
    {
        var rng = s.NextRandom();
        using var columns = s.Put(CheckRun.Uniform(rng, shape.Columns, -1f, 1f));
        using var output = s.Put(CheckRun.Uniform(rng, shape.Pixels, -1f, 1f));
        var (n, h, w, c, k, stride, padding) = shape;
        s.Device.Col2Im(columns.D, n, h, w, c, k, stride, padding, output.D);
        s.Reference.Col2Im(columns.R, n, h, w, c, k, stride, padding, output.R);
        return s.Same($"col2im {shape}", output, ElementwiseTolerance);
    }

    /// <summary>A transposed convolution's 14x14x32 output: bias, then the activation, in place.</summary>
    private static DeviceCheckResult BiasActivation(CheckRun s, Activation activation)
    {
        const int rows = 3 * 14 * 14, columns = 32;
        var rng = s.NextRandom();
        using var values = s.Put(CheckRun.Uniform(rng, rows * columns, -6f, 6f));
        using var bias = s.Put(CheckRun.Uniform(rng, columns, -0.5f, 0.5f));
        s.Device.BiasActivation(values.D, rows, columns, bias.D, activation, 0.05f);
        s.Reference.BiasActivation(values.R, rows, columns, bias.R, activation, 0.05f);
        return s.Same($"bias activation {activation}", values, ElementwiseTolerance);
    }
}
