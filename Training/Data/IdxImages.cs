namespace IlgpuVae.Training.Data;

/// <summary>
/// Images of an IDX file: <paramref name="Count"/> images of <paramref name="Rows"/> x
/// <paramref name="Columns"/> unsigned bytes, row-major, one image after another in
/// <paramref name="Pixels"/> (Count * Rows * Columns bytes).
/// </summary>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels)
{
    /// <summary>Bytes of one image (the model's input width for the MNIST family: 784).</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }
}
