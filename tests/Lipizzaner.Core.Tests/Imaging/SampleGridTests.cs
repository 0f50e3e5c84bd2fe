using System.Buffers.Binary;
using Lipizzaner.Core.Imaging;
using Lipizzaner.Core.Tests.Data;
using SkiaSharp;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Imaging;

public sealed class SampleGridTests : IDisposable
{
    private const int Side = 4;
    private const int PixelsPerImage = Side * Side;

    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(-1f, 0)]
    [InlineData(1f, 255)]
    [InlineData(0f, 128)]
    [InlineData(0.5f, 191)]
    [InlineData(-3f, 0)]
    [InlineData(7f, 255)]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 255)]
    [InlineData(float.NegativeInfinity, 0)]
    public void ToGray_Value_MapsToLevel(float value, byte expected)
    {
        Assert.Equal(expected, GrayscalePng.ToGray(value));
    }

    [Fact]
    public void WritePng_FiveImages_LaysOutGrid()
    {
        // Every pixel of image i is value[i]. The sixth cell of the 3x2 grid stays empty.
        float[] value = [-1f, 1f, 0f, -0.5f, 0.5f];
        float[] pixels = value.SelectMany(v => Enumerable.Repeat(v, PixelsPerImage)).ToArray();
        string path = Path.Combine(_folder.Path, "grid.png");

        SampleGrid.WritePng(path, pixels, Side, columns: 3);

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(3 * (Side + 2) + 2, bitmap.Width);
        Assert.Equal(2 * (Side + 2) + 2, bitmap.Height);
        Assert.Equal((bitmap.Width, bitmap.Height), SampleGrid.GetSize(5, Side, 3));
        Assert.Equal(0, Gray(bitmap, 2, 2));
        Assert.Equal(0, Gray(bitmap, 2 + Side - 1, 2 + Side - 1));
        Assert.Equal(255, Gray(bitmap, 8, 2));
        Assert.Equal(128, Gray(bitmap, 14, 2));
        Assert.Equal(64, Gray(bitmap, 2, 8));
        Assert.Equal(191, Gray(bitmap, 8, 8));
        Assert.Equal(SampleGrid.GapGray, Gray(bitmap, 0, 0));
        Assert.Equal(SampleGrid.GapGray, Gray(bitmap, 6, 3));
        Assert.Equal(SampleGrid.GapGray, Gray(bitmap, 3, 6));
        Assert.Equal(SampleGrid.GapGray, Gray(bitmap, 15, 9));
        Assert.Equal(SampleGrid.GapGray, Gray(bitmap, bitmap.Width - 1, bitmap.Height - 1));
    }

    [Fact]
    public void WritePng_PixelOrder_IsRowMajor()
    {
        float[] pixels = new float[PixelsPerImage];
        pixels.AsSpan().Fill(-1f);
        pixels[1] = 1f;
        string path = Path.Combine(_folder.Path, "grid.png");

        SampleGrid.WritePng(path, pixels, Side, columns: 8);

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(Side + 4, bitmap.Width);
        Assert.Equal(255, Gray(bitmap, 3, 2));
        Assert.Equal(0, Gray(bitmap, 2, 3));
    }

    [Fact]
    public void WritePng_Output_IsEightBitGrayscalePng()
    {
        string path = Path.Combine(_folder.Path, "grid.png");

        SampleGrid.WritePng(path, new float[2 * PixelsPerImage], Side, columns: 2);

        byte[] png = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(2 * (Side + 2) + 2, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(8, png[24]);
        Assert.Equal(0, png[25]);
    }

    [Fact]
    public void WritePng_Tensor_MatchesArray()
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor images = torch.linspace(-1, 1, 3 * PixelsPerImage).reshape(3, PixelsPerImage);
        float[] pixels = images.data<float>().ToArray();
        string fromArray = Path.Combine(_folder.Path, "array.png");
        string fromTensor = Path.Combine(_folder.Path, "tensor.png");
        string fromImageTensor = Path.Combine(_folder.Path, "nchw.png");

        SampleGrid.WritePng(fromArray, pixels, Side, columns: 2);
        SampleGrid.WritePng(fromTensor, images, Side, columns: 2);
        SampleGrid.WritePng(fromImageTensor, images.reshape(3, 1, Side, Side), Side, columns: 2);

        Assert.Equal(File.ReadAllBytes(fromArray), File.ReadAllBytes(fromTensor));
        Assert.Equal(File.ReadAllBytes(fromArray), File.ReadAllBytes(fromImageTensor));
    }

    [Fact]
    public void WritePng_DoubleTensor_IsConverted()
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor images = torch.ones(2, PixelsPerImage, torch.float64);
        string path = Path.Combine(_folder.Path, "grid.png");

        SampleGrid.WritePng(path, images, Side, columns: 2);

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(255, Gray(bitmap, 2, 2));
    }

    [Fact]
    public void WritePng_ExistingFile_IsReplacedWithoutLeftovers()
    {
        string path = _folder.Write("grid.png", [1, 2, 3]);

        SampleGrid.WritePng(path, new float[PixelsPerImage], Side, columns: 1);

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(Side + 4, bitmap.Width);
        Assert.Equal(["grid.png"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void WritePng_PartialImage_Throws()
    {
        string path = Path.Combine(_folder.Path, "grid.png");

        var error = Assert.Throws<ArgumentException>(
            () => SampleGrid.WritePng(path, new float[PixelsPerImage + 3], Side, columns: 2));

        Assert.Contains("19", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void WritePng_NoImages_Throws()
    {
        string path = Path.Combine(_folder.Path, "grid.png");

        Assert.Throws<ArgumentException>(() => SampleGrid.WritePng(path, ReadOnlySpan<float>.Empty, Side, columns: 2));
    }

    [Fact]
    public void WritePng_TensorOfOtherSide_Throws()
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor images = torch.zeros(2, 784);
        string path = Path.Combine(_folder.Path, "grid.png");

        var error = Assert.Throws<ArgumentException>(() => SampleGrid.WritePng(path, images, Side, columns: 2));

        Assert.Contains("(2, 784)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteSinglePng_TensorRow_WritesOneImage()
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor images = torch.full(3, PixelsPerImage, -1f);
        images[1, 5] = torch.tensor(1f);
        string path = Path.Combine(_folder.Path, "single.png");

        SampleGrid.WriteSinglePng(path, images[1], Side);

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(Side, bitmap.Width);
        Assert.Equal(Side, bitmap.Height);
        Assert.Equal(255, Gray(bitmap, 1, 1));
        Assert.Equal(0, Gray(bitmap, 0, 0));
    }

    [Fact]
    public void WriteSinglePng_WrongLength_Throws()
    {
        string path = Path.Combine(_folder.Path, "single.png");

        Assert.Throws<ArgumentException>(() => SampleGrid.WriteSinglePng(path, new float[PixelsPerImage * 2], Side));
    }

    private static SKBitmap Decode(string path)
    {
        SKBitmap? bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        return bitmap;
    }

    private static int Gray(SKBitmap bitmap, int x, int y)
    {
        SKColor color = bitmap.GetPixel(x, y);
        Assert.Equal(color.Red, color.Green);
        Assert.Equal(color.Red, color.Blue);
        return color.Red;
    }
}
