namespace Lipizzaner.Core.Data;

/// <summary>
/// Images read from an IDX file: <see cref="Count"/> images of <see cref="Rows"/> by
/// <see cref="Columns"/> unsigned bytes each, stored row-major and image after image.
/// </summary>
public sealed class IdxImages
{
    private readonly byte[] _pixels;

    public IdxImages(int count, int rows, int columns, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = (long)count * rows * columns;
        if (pixels.LongLength != expected)
        {
            throw new ArgumentException(
                $"{count} images of {rows}x{columns} need {expected} bytes, but {pixels.Length} were given.",
                nameof(pixels));
        }

        Count = count;
        Rows = rows;
        Columns = columns;
        _pixels = pixels;
    }

    public int Count { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Number of pixels in one image.</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>All pixels, image after image, each image row-major.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Returns the pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetImage(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }
}
