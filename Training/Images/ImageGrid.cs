namespace IlgpuVae.Training.Images;

/// <summary>
/// Lays out many small images as one grayscale picture (sample and reconstruction grids).
/// </summary>
public static class ImageGrid
{
    /// <summary>
    /// The grey of the gaps between tiles and of empty cells: distinct from the black backgrounds
    /// and the bright foregrounds of the MNIST family, so tiles are told apart.
    /// </summary>
    public const byte PaddingValue = 96;

    /// <summary>
    /// Tiles <paramref name="count"/> images of <paramref name="height"/> x <paramref name="width"/>
    /// floats (row-major, one after another in <paramref name="images"/>, intensities in [0, 1]) into
    /// rows of <paramref name="columns"/> tiles, with <paramref name="padding"/> grey pixels between
    /// tiles and around the border. Values are clamped to [0, 1] (NaN reads as 0) and rounded to the
    /// nearest of 0..255. Cells past the last image in the last row stay grey.
    /// </summary>
    public static (byte[] Pixels, int Width, int Height) Tile(
        ReadOnlySpan<float> images, int count, int height, int width, int columns, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        long needed = (long)count * height * width;
        if (images.Length < needed)
            throw new ArgumentException($"{count} images of {height}x{width} need {needed} values, got {images.Length}.", nameof(images));

        int rows = (count + columns - 1) / columns;
        long gridWidth = (long)columns * width + (columns + 1L) * padding;
        long gridHeight = (long)rows * height + (rows + 1L) * padding;
        if (gridWidth > int.MaxValue || gridHeight > int.MaxValue || gridWidth * gridHeight > Array.MaxLength)
            throw new ArgumentException($"A grid of {rows}x{columns} tiles of {height}x{width} is too large.", nameof(count));

        int gw = (int)gridWidth;
        var pixels = new byte[gridWidth * gridHeight];
        Array.Fill(pixels, PaddingValue);
        int imageSize = height * width;
        for (int i = 0; i < count; i++)
        {
            int left = padding + (i % columns) * (width + padding);
            int top = padding + (i / columns) * (height + padding);
            ReadOnlySpan<float> image = images.Slice(i * imageSize, imageSize);
            for (int y = 0; y < height; y++)
            {
                Span<byte> target = pixels.AsSpan((top + y) * gw + left, width);
                ReadOnlySpan<float> source = image.Slice(y * width, width);
                for (int x = 0; x < width; x++)
                    target[x] = ToByte(source[x]);
            }
        }
        return (pixels, gw, (int)gridHeight);
    }

    internal static byte ToByte(float value)
    {
        // The negated comparison sends NaN to 0 as well.
        if (!(value > 0f))
            return 0;
        if (value >= 1f)
            return 255;
        return (byte)MathF.Round(value * 255f, MidpointRounding.AwayFromZero);
    }
}
