using System.Globalization;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Tests.Interop;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>
/// Image encodings that SkiaSharp cannot write, made with Pillow (a dependency of Debian's python3-torch):
/// 16-bit gray PNG, palette PNG, CMYK JPEG and progressive JPEG. Each file is one uniform colour, so its
/// luminance is known exactly for the lossless formats and within JPEG's rounding for the others.
/// </summary>
public sealed class ImageFormatTests : IDisposable
{
    // Writes the files into the folder argv[1] and prints, per file, the luminance that Pillow's
    // convert("L") gives for its colour (ITU-R BT.601 weights, like the loader).
    private const string WriteScript = """
        import sys, os
        from PIL import Image
        folder = sys.argv[1]
        out = []
        gray16 = Image.new("I;16", (40, 30), 0xC8C8)
        gray16.save(os.path.join(folder, "gray16.png"))
        out.append("gray16.png:200")
        palette = Image.new("P", (24, 24), 1)
        palette.putpalette([0, 0, 0, 30, 200, 90] + [0] * (254 * 3))
        palette.save(os.path.join(folder, "palette.png"))
        out.append("palette.png:%d" % palette.convert("L").getpixel((0, 0)))
        cmyk = Image.new("CMYK", (32, 32), (40, 10, 0, 60))
        cmyk.save(os.path.join(folder, "cmyk.jpg"), quality=95)
        out.append("cmyk.jpg:%d" % Image.open(os.path.join(folder, "cmyk.jpg")).convert("RGB").convert("L").getpixel((16, 16)))
        rgb = Image.new("RGB", (48, 32), (180, 120, 60))
        rgb.save(os.path.join(folder, "progressive.jpg"), quality=95, progressive=True)
        out.append("progressive.jpg:%d" % rgb.convert("L").getpixel((0, 0)))
        print(" ".join(out))
        """;

    private readonly TemporaryFolder _folder = new();

    [Fact]
    public void PillowFormats_DecodeToExpectedLuminance()
    {
        string line = SystemTorch.Run(WriteScript, _folder.Path);
        var expected = line.Split(' ')
            .Select(entry => entry.Split(':'))
            .ToDictionary(parts => parts[0], parts => int.Parse(parts[1], CultureInfo.InvariantCulture));
        Assert.True(IsProgressive(File.ReadAllBytes(Path.Combine(_folder.Path, "progressive.jpg"))), "Pillow wrote a baseline JPEG");

        var logger = new ListLogger();
        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 8, Strict: true), logger);

        // Files are read in ordinal order of their names.
        string[] order = ["cmyk.jpg", "gray16.png", "palette.png", "progressive.jpg"];
        Assert.Equal(order.Length, dataset.Count);
        Assert.Empty(dataset.Skipped);
        byte[] pixels = dataset.RawPixels.ToArray();
        for (int i = 0; i < order.Length; i++)
        {
            int tolerance = order[i].EndsWith(".jpg", StringComparison.Ordinal) ? 3 : 0;
            var image = pixels.AsSpan(i * 64, 64).ToArray();
            Assert.All(image, value => Assert.InRange(value, expected[order[i]] - tolerance, expected[order[i]] + tolerance));
        }
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>Returns whether a JPEG has a progressive start-of-frame marker (SOF2, FF C2).</summary>
    private static bool IsProgressive(byte[] jpeg)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC2)
            {
                return true;
            }

            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1)
            {
                return false;
            }
        }

        return false;
    }
}
