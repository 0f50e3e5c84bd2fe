using System.Buffers.Binary;
using Lipizzaner.Core.Data;

namespace Lipizzaner.Core.Tests.Data;

public sealed class MnistIdxTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ReadImages_ValidFile_ReturnsHeaderAndPixels()
    {
        byte[] content = IdxFiles.Images(count: 3, rows: 4, columns: 5);
        string path = _folder.Write("images-idx3-ubyte", content);

        IdxImages images = MnistIdx.ReadImages(path);

        Assert.Equal(3, images.Count);
        Assert.Equal(4, images.Rows);
        Assert.Equal(5, images.Columns);
        Assert.Equal(20, images.PixelsPerImage);
        Assert.Equal(content.AsSpan(16).ToArray(), images.Pixels.ToArray());
        Assert.Equal(content.AsSpan(16 + 40, 20).ToArray(), images.GetImage(2).ToArray());
    }

    [Fact]
    public void ReadImages_GzipFile_ReturnsSamePixels()
    {
        byte[] content = IdxFiles.Images(count: 3, rows: 4, columns: 5);
        string path = _folder.Write("images-idx3-ubyte.gz", IdxFiles.Gzip(content));

        IdxImages images = MnistIdx.ReadImages(path);

        Assert.Equal(3, images.Count);
        Assert.Equal(content.AsSpan(16).ToArray(), images.Pixels.ToArray());
    }

    [Fact]
    public void ReadImages_ZeroImages_ReturnsEmpty()
    {
        string path = _folder.Write("images-idx3-ubyte", IdxFiles.Images(count: 0, rows: 28, columns: 28));

        IdxImages images = MnistIdx.ReadImages(path);

        Assert.Equal(0, images.Count);
        Assert.Equal(0, images.Pixels.Length);
    }

    [Fact]
    public void ReadImages_TruncatedFile_Throws()
    {
        byte[] content = IdxFiles.Images(count: 3, rows: 4, columns: 5);
        string path = _folder.Write("images-idx3-ubyte", content[..^7]);

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{content.Length - 7} bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{content.Length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_TruncatedGzipFile_Throws()
    {
        byte[] content = IdxFiles.Images(count: 3, rows: 4, columns: 5);
        string path = _folder.Write("images-idx3-ubyte.gz", IdxFiles.Gzip(content[..^7]));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_TrailingBytes_Throws()
    {
        byte[] content = [.. IdxFiles.Images(count: 3, rows: 4, columns: 5), 1, 2, 3];
        string path = _folder.Write("images-idx3-ubyte", content);

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"{content.Length} bytes long", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_TrailingBytesInGzip_Throws()
    {
        byte[] content = [.. IdxFiles.Images(count: 3, rows: 4, columns: 5), 1, 2, 3];
        string path = _folder.Write("images-idx3-ubyte.gz", IdxFiles.Gzip(content));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("longer than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_BadMagic_Throws()
    {
        string path = _folder.Write("images-idx3-ubyte", IdxFiles.Images(2, 4, 4, magic: 0x00000C03));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000C03", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected 0x00000803", error.Message, StringComparison.Ordinal);
        Assert.Contains("Delete it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_LabelFile_ThrowsSwappedHint()
    {
        string path = _folder.Write("labels-idx1-ubyte", IdxFiles.Labels(1, 2, 3, 4, 5, 6, 7, 8, 9));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains("swapped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_ShortHeader_Throws()
    {
        string path = _folder.Write("images-idx3-ubyte", IdxFiles.Images(1, 2, 2)[..10]);

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("16-byte header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_EmptyFile_Throws()
    {
        string path = _folder.Write("images-idx3-ubyte", []);

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains("0 bytes long", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_ZeroRows_Throws()
    {
        string path = _folder.Write("images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 0, columns: 28));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains("2 images of 0x28 pixels", error.Message, StringComparison.Ordinal);
        Assert.Contains("at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_OversizedHeader_Throws()
    {
        byte[] content = IdxFiles.Images(count: 1, rows: 2, columns: 2);
        BinaryPrimitives.WriteUInt32BigEndian(content.AsSpan(4), 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(content.AsSpan(8), 0x10000);
        string path = _folder.Write("images-idx3-ubyte", content);

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains("more than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_GzipWithoutSuffix_ThrowsRenameHint()
    {
        string path = _folder.Write("images-idx3-ubyte", IdxFiles.Gzip(IdxFiles.Images(2, 4, 4)));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains("gzip-compressed", error.Message, StringComparison.Ordinal);
        Assert.Contains("images-idx3-ubyte.gz", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_PlainFileWithGzSuffix_Throws()
    {
        string path = _folder.Write("images-idx3-ubyte.gz", IdxFiles.Images(2, 4, 4));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("gzip", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_MissingFile_ThrowsFileNotFound()
    {
        string path = Path.Combine(_folder.Path, "absent-idx3-ubyte");

        var error = Assert.Throws<FileNotFoundException>(() => MnistIdx.ReadImages(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLabels_ValidFile_ReturnsLabels()
    {
        string path = _folder.Write("labels-idx1-ubyte", IdxFiles.Labels(7, 2, 1, 0));

        byte[] labels = MnistIdx.ReadLabels(path);

        Assert.Equal([7, 2, 1, 0], labels);
    }

    [Fact]
    public void ReadLabels_GzipFile_ReturnsLabels()
    {
        string path = _folder.Write("labels-idx1-ubyte.gz", IdxFiles.Gzip(IdxFiles.Labels(7, 2, 1, 0)));

        byte[] labels = MnistIdx.ReadLabels(path);

        Assert.Equal([7, 2, 1, 0], labels);
    }

    [Fact]
    public void ReadLabels_TruncatedFile_Throws()
    {
        string path = _folder.Write("labels-idx1-ubyte", IdxFiles.Labels(7, 2, 1, 0)[..^1]);

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadLabels(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("4 labels", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLabels_ImageFile_ThrowsBadMagic()
    {
        string path = _folder.Write("images-idx3-ubyte", IdxFiles.Images(1, 2, 2));

        var error = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadLabels(path));

        Assert.Contains("0x00000803", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected 0x00000801", error.Message, StringComparison.Ordinal);
    }
}
