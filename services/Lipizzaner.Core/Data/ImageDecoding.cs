using SkiaSharp;

namespace Lipizzaner.Core.Data;

/// <summary>How a non-square image becomes square before it is resized.</summary>
public enum ResizePolicy
{
    /// <summary>Keep the central square (the shorter side), cutting off the edges of the longer side.</summary>
    CenterCrop,

    /// <summary>Keep the whole image, centred on a black square as wide as the longer side.</summary>
    Pad,
}

/// <summary>A single-channel 8-bit image, row-major.</summary>
public sealed record GrayImage(int Width, int Height, byte[] Pixels);

/// <summary>
/// Turns one encoded JPEG or PNG file into a square luminance image: decode with SkiaSharp, apply the
/// EXIF orientation, convert to luminance, make square (crop or pad), then resize.
/// </summary>
public static class ImageDecoding
{
    /// <summary>
    /// Sampling for the final resize: linear filtering between the two nearest mipmap levels. X-rays are
    /// usually many times larger than 128 pixels, and mipmaps average every source pixel into the result.
    /// A cubic filter alone would read only 4 x 4 source pixels per output pixel, and so alias.
    /// </summary>
    public static readonly SKSamplingOptions Sampling = new(SKFilterMode.Linear, SKMipmapMode.Linear);

    /// <summary>
    /// Decodes <paramref name="content"/> and returns <paramref name="side"/>² luminance bytes, row-major.
    /// </summary>
    /// <exception cref="InvalidDataException">The content is empty, not a supported image, or incomplete.</exception>
    public static byte[] DecodeSquare(ReadOnlySpan<byte> content, int side, ResizePolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(side, 1);
        var image = DecodeLuminance(content);
        return ToSquare(image, side, policy);
    }

    /// <summary>
    /// Decodes any colour type SkiaSharp reads (gray, RGB, RGBA, palette, 16-bit) to 8-bit RGBA, applies the
    /// EXIF orientation, and returns the luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), rounded.
    /// Alpha is ignored, so a transparent pixel keeps its colour, as a conversion to RGB would leave it.
    /// </summary>
    /// <exception cref="InvalidDataException">The content is empty, not a supported image, or incomplete.</exception>
    public static GrayImage DecodeLuminance(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            throw new InvalidDataException("the file is empty");
        }

        using var data = SKData.CreateCopy(content);
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException("the content is not an image that SkiaSharp decodes (expected JPEG or PNG)");
        int width = codec.Info.Width;
        int height = codec.Info.Height;
        if (width <= 0 || height <= 0)
        {
            throw new InvalidDataException($"the image has no pixels ({width}x{height})");
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        var result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
        {
            throw new InvalidDataException($"decoding failed with '{result}' (the file is damaged or incomplete)");
        }

        var luminance = new byte[width * height];
        for (int i = 0; i < luminance.Length; i++)
        {
            int offset = i * 4;
            luminance[i] = Luminance(rgba[offset], rgba[offset + 1], rgba[offset + 2]);
        }

        return Orient(new GrayImage(width, height, luminance), codec.EncodedOrigin);
    }

    /// <summary>Returns the BT.601 luminance of one pixel, rounded to the nearest integer.</summary>
    public static byte Luminance(byte red, byte green, byte blue) =>
        (byte)((299 * red + 587 * green + 114 * blue + 500) / 1000);

    /// <summary>
    /// Returns the image as it is meant to be displayed, given the EXIF orientation of its stored pixels:
    /// for example <see cref="SKEncodedOrigin.RightTop"/> (EXIF 6) turns it 90° clockwise.
    /// </summary>
    public static GrayImage Orient(GrayImage image, SKEncodedOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width;
        int h = image.Height;
        bool swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        if (origin == SKEncodedOrigin.TopLeft)
        {
            return image;
        }

        int outWidth = swaps ? h : w;
        int outHeight = swaps ? w : h;
        var pixels = new byte[image.Pixels.Length];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                // (sx, sy): the stored pixel shown at (x, y).
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                pixels[(y * outWidth) + x] = image.Pixels[(sy * w) + sx];
            }
        }

        return new GrayImage(outWidth, outHeight, pixels);
    }

    /// <summary>
    /// Makes <paramref name="image"/> square by <paramref name="policy"/>, resizes it to
    /// <paramref name="side"/> with <see cref="Sampling"/>, and returns the <paramref name="side"/>² bytes.
    /// </summary>
    public static byte[] ToSquare(GrayImage image, int side, ResizePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(image);
        var sourceInfo = new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var source = SKImage.FromPixelCopy(sourceInfo, image.Pixels)
            ?? throw new InvalidDataException($"SkiaSharp could not wrap a {image.Width}x{image.Height} image");

        SKRect from;
        SKRect to;
        if (policy == ResizePolicy.CenterCrop)
        {
            int square = Math.Min(image.Width, image.Height);
            int left = (image.Width - square) / 2;
            int top = (image.Height - square) / 2;
            from = SKRect.Create(left, top, square, square);
            to = SKRect.Create(0, 0, side, side);
        }
        else
        {
            float scale = (float)side / Math.Max(image.Width, image.Height);
            float width = image.Width * scale;
            float height = image.Height * scale;
            from = SKRect.Create(0, 0, image.Width, image.Height);
            to = SKRect.Create((side - width) / 2, (side - height) / 2, width, height);
        }

        // The drawing goes through a 32-bit RGBA bitmap, in which every channel of a gray source gets the same value.
        using var target = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(target))
        {
            canvas.Clear(SKColors.Black);
            using var paint = new SKPaint { IsAntialias = false };
            canvas.DrawImage(source, from, to, Sampling, paint);
        }

        ReadOnlySpan<byte> rgba = target.GetPixelSpan();
        var result = new byte[side * side];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = rgba[i * 4];
        }

        return result;
    }
}
