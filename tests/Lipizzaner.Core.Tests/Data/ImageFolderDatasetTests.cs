using Lipizzaner.Core.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;
using TorchSharp;
using static Lipizzaner.Core.Tests.Data.ImageFolderTestImages;

namespace Lipizzaner.Core.Tests.Data;

public sealed class ImageFolderDatasetTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    [Fact]
    public void RealPositiveFolder_LoadsEveryFileInRange()
    {
        string positive = PositiveFolder();
        int files = Directory.GetFiles(positive).Count(ImageFolderDataset.IsImageFile);
        var logger = new ListLogger();

        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(positive, 28), logger);

        Assert.Equal(190, files);
        Assert.Equal(190, dataset.Count);
        Assert.Empty(dataset.Skipped);
        Assert.DoesNotContain(logger.Entries, entry => entry.Level == LogLevel.Warning);
        Assert.Equal(new long[] { 190, 28 * 28 }, dataset.Images.shape);
        Assert.Equal(torch.float32, dataset.Images.dtype);
        Assert.True(dataset.Images.min().item<float>() >= -1f);
        Assert.True(dataset.Images.max().item<float>() <= 1f);
        Assert.All(dataset.Labels, label => Assert.Equal(0, label));
        // X-rays have both dark and bright parts, so the scaled range is mostly used.
        Assert.True(dataset.Images.max().item<float>() - dataset.Images.min().item<float>() > 1.5f);
    }

    [Fact]
    public void GrayAndRgbaPng_ScaledLuminance()
    {
        _folder.Write("gray.png", GrayPng(30, 20, 200));
        _folder.Write("rgba.PNG", Encode(16, 16, SKColorType.Rgba8888, SKAlphaType.Unpremul, (_, _) => new SKColor(255, 0, 0, 128)));

        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 8), NullLogger.Instance);

        Assert.Equal(2, dataset.Count);
        float[] pixels = dataset.Images.data<float>().ToArray();
        Assert.All(pixels.AsSpan(0, 64).ToArray(), value => Assert.Equal(MnistDataset.Scale(200), value, 1e-6f));
        byte red = ImageDecoding.Luminance(255, 0, 0);
        Assert.Equal(76, red);
        Assert.All(pixels.AsSpan(64, 64).ToArray(), value => Assert.Equal(MnistDataset.Scale(red), value, 1e-6f));
    }

    [Fact]
    public void JpegWithExifOrientation_IsTurnedUpright()
    {
        // Stored 40x20: the left half white, the right half black. EXIF 6 shows it turned 90° clockwise,
        // so the white half is on top. The centre crop keeps rows 10 to 29 of the turned image.
        byte[] jpeg = Encode(40, 20, SKColorType.Rgba8888, SKAlphaType.Opaque,
            (x, _) => x < 20 ? SKColors.White : SKColors.Black, SKEncodedImageFormat.Jpeg);
        byte[] rotated = WithExifOrientation(jpeg, 6);
        using (var codec = SKCodec.Create(SKData.CreateCopy(rotated)))
        {
            Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);
        }

        byte[] upright = ImageDecoding.DecodeSquare(rotated, 20, ResizePolicy.CenterCrop);
        byte[] plain = ImageDecoding.DecodeSquare(jpeg, 20, ResizePolicy.CenterCrop);

        Assert.True(upright[(2 * 20) + 17] > 200, "top right should be white after turning");
        Assert.True(upright[(17 * 20) + 2] < 55, "bottom left should be black after turning");
        Assert.True(plain[(2 * 20) + 17] < 55, "without EXIF, the right half stays black");
        Assert.True(plain[(17 * 20) + 2] > 200, "without EXIF, the left half stays white");
    }

    [Theory]
    [InlineData(SKEncodedOrigin.TopLeft, 3, 2, new byte[] { 1, 2, 3, 4, 5, 6 })]
    [InlineData(SKEncodedOrigin.TopRight, 3, 2, new byte[] { 3, 2, 1, 6, 5, 4 })]
    [InlineData(SKEncodedOrigin.BottomRight, 3, 2, new byte[] { 6, 5, 4, 3, 2, 1 })]
    [InlineData(SKEncodedOrigin.BottomLeft, 3, 2, new byte[] { 4, 5, 6, 1, 2, 3 })]
    [InlineData(SKEncodedOrigin.LeftTop, 2, 3, new byte[] { 1, 4, 2, 5, 3, 6 })]
    [InlineData(SKEncodedOrigin.RightTop, 2, 3, new byte[] { 4, 1, 5, 2, 6, 3 })]
    [InlineData(SKEncodedOrigin.RightBottom, 2, 3, new byte[] { 6, 3, 5, 2, 4, 1 })]
    [InlineData(SKEncodedOrigin.LeftBottom, 2, 3, new byte[] { 3, 6, 2, 5, 1, 4 })]
    public void Orient_MapsEveryExifOrientation(SKEncodedOrigin origin, int width, int height, byte[] expected)
    {
        // Stored 3x2: row 0 is 1 2 3, row 1 is 4 5 6.
        var image = new GrayImage(3, 2, [1, 2, 3, 4, 5, 6]);

        var oriented = ImageDecoding.Orient(image, origin);

        Assert.Equal((width, height), (oriented.Width, oriented.Height));
        Assert.Equal(expected, oriented.Pixels);
    }

    [Fact]
    public void PadPolicy_KeepsWholeImageOnBlack()
    {
        var white = new GrayImage(40, 20, [.. Enumerable.Repeat((byte)255, 800)]);

        byte[] padded = ImageDecoding.ToSquare(white, 20, ResizePolicy.Pad);
        byte[] cropped = ImageDecoding.ToSquare(white, 20, ResizePolicy.CenterCrop);

        Assert.Equal(0, padded[2]);
        Assert.Equal(0, padded[(18 * 20) + 10]);
        Assert.Equal(255, padded[(10 * 20) + 10]);
        Assert.All(cropped, value => Assert.Equal(255, value));
    }

    [Fact]
    public void BadFiles_SkippedWithWarnings()
    {
        WriteGoodAndBadFiles();
        var logger = new ListLogger();

        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 8), logger);

        Assert.Equal(2, dataset.Count);
        Assert.Equal(["empty.png", "text.png", "truncated.png"], dataset.Skipped.Select(skipped => Path.GetFileName(skipped.Path)));
        var warnings = logger.Entries.Where(entry => entry.Level == LogLevel.Warning).Select(entry => entry.Message).ToList();
        Assert.Equal(4, warnings.Count);
        foreach (string name in new[] { "empty.png", "text.png", "truncated.png" })
        {
            Assert.Single(warnings, message => message.Contains(name, StringComparison.Ordinal));
        }

        Assert.Contains(warnings, message => message.StartsWith("Skipped 3 of 5 image files", StringComparison.Ordinal));
    }

    [Fact]
    public void Strict_BadFileThrows()
    {
        WriteGoodAndBadFiles();

        var exception = Assert.Throws<InvalidDataException>(
            () => ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 8, Strict: true), NullLogger.Instance));

        Assert.Contains(Path.Combine(_folder.Path, "empty.png"), exception.Message, StringComparison.Ordinal);
        Assert.Contains("dataloader.strict", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyBadFiles_Throws()
    {
        _folder.Write("text.png", "not an image"u8.ToArray());

        var exception = Assert.Throws<InvalidDataException>(
            () => ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 8), NullLogger.Instance));

        Assert.Contains(_folder.Path, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyFolder_IsAnErrorNamingTheFolder()
    {
        _folder.Write("notes.txt", "no images here"u8.ToArray());

        var exception = Assert.Throws<InvalidDataException>(
            () => ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 8), NullLogger.Instance));

        Assert.Contains(_folder.Path, exception.Message, StringComparison.Ordinal);
        Assert.Contains("dataloader.path", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFolder_Throws()
    {
        string missing = Path.Combine(_folder.Path, "absent");

        var exception = Assert.Throws<DirectoryNotFoundException>(
            () => ImageFolderDataset.Load(new ImageFolderOptions(missing, 8), NullLogger.Instance));

        Assert.Contains(missing, exception.Message, StringComparison.Ordinal);
        Assert.Contains("dataloader.path", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClassSubFolders_AreLabelledInOrdinalOrder()
    {
        Directory.CreateDirectory(Path.Combine(_folder.Path, "positive"));
        Directory.CreateDirectory(Path.Combine(_folder.Path, "negative"));
        Directory.CreateDirectory(Path.Combine(_folder.Path, "empty"));
        _folder.Write(Path.Combine("positive", "b.png"), GrayPng(8, 8, 10));
        _folder.Write(Path.Combine("positive", "a.jpg"), Encode(8, 8, SKColorType.Rgba8888, SKAlphaType.Opaque,
            (_, _) => SKColors.White, SKEncodedImageFormat.Jpeg));
        _folder.Write(Path.Combine("negative", "c.png"), GrayPng(8, 8, 30));

        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(_folder.Path, 4), NullLogger.Instance);

        Assert.Equal(["negative", "positive"], dataset.ClassNames);
        Assert.Equal([0, 1, 1], dataset.Labels);
        Assert.Equal(30, dataset.RawPixels[0]);
        Assert.True(dataset.RawPixels[16] > 240, "positive/a.jpg comes before positive/b.png");
        Assert.Equal(10, dataset.RawPixels[32]);
    }

    [Fact]
    public void Cache_HitThenMissAfterChange()
    {
        string images = Path.Combine(_folder.Path, "images");
        Directory.CreateDirectory(images);
        string first = Path.Combine(images, "a.png");
        File.WriteAllBytes(first, GrayPng(12, 12, 50));
        File.WriteAllBytes(Path.Combine(images, "b.png"), GrayPng(12, 12, 150));
        string cache = Path.Combine(_folder.Path, "cache");
        var options = new ImageFolderOptions(images, 8, CacheDirectory: cache);

        using var built = ImageFolderDataset.Load(options, NullLogger.Instance);
        using var cached = ImageFolderDataset.Load(options, NullLogger.Instance);
        using var otherSize = ImageFolderDataset.Load(options with { Side = 4 }, NullLogger.Instance);
        using var otherPolicy = ImageFolderDataset.Load(options with { Policy = ResizePolicy.Pad }, NullLogger.Instance);

        Assert.False(built.FromCache);
        Assert.True(cached.FromCache);
        Assert.Equal(built.RawPixels.ToArray(), cached.RawPixels.ToArray());
        Assert.False(otherSize.FromCache);
        Assert.False(otherPolicy.FromCache);
        Assert.Equal(3, Directory.GetFiles(cache).Length);

        File.WriteAllBytes(first, GrayPng(12, 12, 90));
        File.SetLastWriteTimeUtc(first, File.GetLastWriteTimeUtc(first).AddMinutes(1));
        using var changed = ImageFolderDataset.Load(options, NullLogger.Instance);

        Assert.False(changed.FromCache);
        Assert.Equal(90, changed.RawPixels[0]);
    }

    [Fact]
    public void Cache_DamagedFileIsRebuiltWithAWarning()
    {
        string images = Path.Combine(_folder.Path, "images");
        Directory.CreateDirectory(images);
        File.WriteAllBytes(Path.Combine(images, "a.png"), GrayPng(12, 12, 50));
        string cache = Path.Combine(_folder.Path, "cache");
        var options = new ImageFolderOptions(images, 8, CacheDirectory: cache);
        using (ImageFolderDataset.Load(options, NullLogger.Instance))
        {
        }

        string file = Directory.GetFiles(cache).Single();
        byte[] content = File.ReadAllBytes(file);
        content[content.Length / 2] ^= 0x40;
        File.WriteAllBytes(file, content);
        var logger = new ListLogger();

        using var rebuilt = ImageFolderDataset.Load(options, logger);
        using var again = ImageFolderDataset.Load(options, NullLogger.Instance);

        Assert.False(rebuilt.FromCache);
        Assert.Equal(50, rebuilt.RawPixels[0]);
        Assert.Single(logger.Entries, entry => entry.Level == LogLevel.Warning && entry.Message.Contains("damaged", StringComparison.Ordinal));
        Assert.True(again.FromCache);
    }

    public void Dispose() => _folder.Dispose();

    private void WriteGoodAndBadFiles()
    {
        byte[] png = GrayPng(16, 16, 120);
        _folder.Write("gray.png", png);
        _folder.Write("photo.JPEG", Encode(16, 16, SKColorType.Rgba8888, SKAlphaType.Opaque, (_, _) => SKColors.Gray, SKEncodedImageFormat.Jpeg));
        _folder.Write("truncated.png", png[..(png.Length / 2)]);
        _folder.Write("empty.png", []);
        _folder.Write("text.png", "this is not an image"u8.ToArray());
        _folder.Write("readme.txt", "ignored: not an image name"u8.ToArray());
    }
}
