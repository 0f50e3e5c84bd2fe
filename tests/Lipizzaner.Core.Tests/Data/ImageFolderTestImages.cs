using SkiaSharp;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>Images made up for the image-folder tests, and the location of the real chest X-rays.</summary>
internal static class ImageFolderTestImages
{
    /// <summary>
    /// Returns the folder of real COVID-19-positive chest X-rays: <c>shared/datasets/covid19-cxr/positive</c>
    /// in the nearest folder above the test binaries that has it. Fails, listing the folders searched, when none does.
    /// </summary>
    public static string PositiveFolder()
    {
        var searched = new List<string>();
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "shared", "datasets", "covid19-cxr");
            searched.Add(candidate);
            if (Directory.Exists(candidate))
            {
                return Path.Combine(candidate, "positive");
            }
        }

        Assert.Fail("The chest X-ray images were not found; searched: " + string.Join(", ", searched));
        return "";
    }

    /// <summary>Encodes a bitmap whose pixel (x, y) is <paramref name="colour"/>(x, y).</summary>
    public static byte[] Encode(
        int width, int height, SKColorType colourType, SKAlphaType alphaType, Func<int, int, SKColor> colour,
        SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, colourType, alphaType));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, colour(x, y));
            }
        }

        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] GrayPng(int width, int height, byte value) =>
        Encode(width, height, SKColorType.Gray8, SKAlphaType.Opaque, (_, _) => new SKColor(value, value, value));

    /// <summary>
    /// Returns <paramref name="jpeg"/> with an EXIF segment (APP1) carrying only the orientation tag, placed
    /// right after the start-of-image marker.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        // "Exif\0\0", then a little-endian TIFF header and one IFD with the single entry 0x0112 (SHORT).
        byte[] payload =
        [
            (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0,
            1, 0,
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, (byte)(orientation >> 8), 0, 0,
            0, 0, 0, 0,
        ];
        int length = payload.Length + 2;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }
}
