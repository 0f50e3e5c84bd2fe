using Lipizzaner.Core.IO;
using SkiaSharp;

namespace Lipizzaner.Core.Imaging;

/// <summary>Encodes 8-bit grayscale pixels as PNG through SkiaSharp.</summary>
public static class GrayscalePng
{
    /// <summary>
    /// Returns the PNG encoding of a <paramref name="width"/> x <paramref name="height"/> image
    /// whose <paramref name="pixels"/> are 0 (black) to 255 (white), row-major.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (pixels.Length != (long)width * height)
        {
            throw new ArgumentException(
                $"A {width}x{height} image needs {(long)width * height} pixels, but {pixels.Length} were given.",
                nameof(pixels));
        }

        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        Span<byte> target = bitmap.GetPixelSpan();
        int rowBytes = bitmap.RowBytes;
        for (int y = 0; y < height; y++)
        {
            pixels.Slice(y * width, width).CopyTo(target.Slice(y * rowBytes, width));
        }

        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData? data = image.Encode(SKEncodedImageFormat.Png, 100);
        if (data is null)
        {
            throw new InvalidOperationException($"SkiaSharp failed to encode a {width}x{height} grayscale PNG.");
        }

        return data.ToArray();
    }

    /// <summary>
    /// Encodes the image as <see cref="Encode"/> does and writes it atomically to <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> pixels, int width, int height)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, Encode(pixels, width, height));
    }

    /// <summary>
    /// Maps a value in [-1, 1] to a gray level: -1 to 0, 1 to 255, linear in between, rounded to
    /// the nearest level (halves away from zero). Values outside the range are clamped, and NaN maps to 0.
    /// </summary>
    public static byte ToGray(float value)
    {
        if (float.IsNaN(value))
        {
            return 0;
        }

        float level = (value + 1f) * 127.5f;
        return (byte)MathF.Round(Math.Clamp(level, 0f, 255f), MidpointRounding.AwayFromZero);
    }
}
