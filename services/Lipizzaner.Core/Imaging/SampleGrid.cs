using TorchSharp;

namespace Lipizzaner.Core.Imaging;

/// <summary>
/// Writes square grayscale images with values in [-1, 1] (generator output, or MNIST scaled by
/// MnistDataset.Scale) as PNG: many in a grid, or one alone.
/// </summary>
public static class SampleGrid
{
    /// <summary>Width in pixels of the border around and between the images of a grid.</summary>
    public const int Gap = 2;

    /// <summary>
    /// Gray level of the border and of unused cells: dark, but lighter than MNIST's black (-1)
    /// background, so that neighbouring images stay apart.
    /// </summary>
    public const byte GapGray = 40;

    /// <summary>
    /// Returns the width and height in pixels of a grid of <paramref name="count"/> images of
    /// <paramref name="side"/> x <paramref name="side"/>, with at most <paramref name="columns"/> per row.
    /// </summary>
    public static (int Width, int Height) GetSize(int count, int side, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        int usedColumns = Math.Min(columns, count);
        int rows = (count + usedColumns - 1) / usedColumns;
        return (usedColumns * (side + Gap) + Gap, rows * (side + Gap) + Gap);
    }

    /// <summary>
    /// Writes the images in <paramref name="pixels"/> (image after image, each row-major, values in
    /// [-1, 1]) to <paramref name="path"/> as a PNG grid, filled row by row with up to
    /// <paramref name="columns"/> images per row. The file is replaced atomically.
    /// </summary>
    public static void WritePng(string path, ReadOnlySpan<float> pixels, int side, int columns)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        int pixelsPerImage = checked(side * side);
        if (pixels.Length == 0 || pixels.Length % pixelsPerImage != 0)
        {
            throw new ArgumentException(
                $"Expected a positive multiple of {pixelsPerImage} values ({side}x{side} per image), " +
                $"but {pixels.Length} were given.",
                nameof(pixels));
        }

        int count = pixels.Length / pixelsPerImage;
        (int width, int height) = GetSize(count, side, columns);
        int usedColumns = Math.Min(columns, count);
        var canvas = new byte[checked(width * height)];
        canvas.AsSpan().Fill(GapGray);
        for (int image = 0; image < count; image++)
        {
            int left = Gap + image % usedColumns * (side + Gap);
            int top = Gap + image / usedColumns * (side + Gap);
            ReadOnlySpan<float> source = pixels.Slice(image * pixelsPerImage, pixelsPerImage);
            for (int y = 0; y < side; y++)
            {
                Span<byte> row = canvas.AsSpan((top + y) * width + left, side);
                for (int x = 0; x < side; x++)
                {
                    row[x] = GrayscalePng.ToGray(source[y * side + x]);
                }
            }
        }

        GrayscalePng.Write(path, canvas, width, height);
    }

    /// <summary>
    /// Writes the images in <paramref name="images"/>, a tensor of shape (N, side²) or
    /// (N, 1, side, side) on any device, as <see cref="WritePng(string, ReadOnlySpan{float}, int, int)"/> does.
    /// </summary>
    public static void WritePng(string path, torch.Tensor images, int side, int columns)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() < 2 || images.shape[0] == 0)
        {
            throw new ArgumentException(
                $"Expected a tensor of shape (N, {side * side}) with N > 0, but its shape is " +
                $"({string.Join(", ", images.shape)}).",
                nameof(images));
        }

        WritePng(path, ToCpuFloats(images, images.shape[0], side), side, columns);
    }

    /// <summary>
    /// Writes one image, <paramref name="side"/>² values in [-1, 1] row-major, to
    /// <paramref name="path"/> as a PNG without a border. The file is replaced atomically.
    /// </summary>
    public static void WriteSinglePng(string path, ReadOnlySpan<float> pixels, int side)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        int pixelsPerImage = checked(side * side);
        if (pixels.Length != pixelsPerImage)
        {
            throw new ArgumentException(
                $"Expected {pixelsPerImage} values ({side}x{side}), but {pixels.Length} were given.",
                nameof(pixels));
        }

        var gray = new byte[pixelsPerImage];
        for (int i = 0; i < gray.Length; i++)
        {
            gray[i] = GrayscalePng.ToGray(pixels[i]);
        }

        GrayscalePng.Write(path, gray, side, side);
    }

    /// <summary>
    /// Writes one image, a tensor of side² values such as one row of a batch, as
    /// <see cref="WriteSinglePng(string, ReadOnlySpan{float}, int)"/> does.
    /// </summary>
    public static void WriteSinglePng(string path, torch.Tensor image, int side)
    {
        ArgumentNullException.ThrowIfNull(image);
        WriteSinglePng(path, ToCpuFloats(image, 1, side), side);
    }

    /// <summary>Copies <paramref name="tensor"/> to a float array of <paramref name="count"/> images.</summary>
    private static float[] ToCpuFloats(torch.Tensor tensor, long count, int side)
    {
        long pixelsPerImage = (long)side * side;
        if (tensor.numel() != count * pixelsPerImage)
        {
            throw new ArgumentException(
                $"Expected {count} image(s) of {side}x{side} values, but the tensor's shape is " +
                $"({string.Join(", ", tensor.shape)}).",
                nameof(tensor));
        }

        using var scope = torch.NewDisposeScope();
        torch.Tensor values = tensor.detach().to(torch.CPU).to_type(torch.float32).contiguous();
        return values.data<float>().ToArray();
    }
}
