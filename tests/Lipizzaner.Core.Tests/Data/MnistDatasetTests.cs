using Lipizzaner.Core.Data;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Data;

public sealed class MnistDatasetTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(0, -1f)]
    [InlineData(255, 1f)]
    [InlineData(185, 0.450980425f)]
    [InlineData(128, 0.003921628f)]
    public void Scale_Pixel_MatchesFloat32Formula(byte pixel, float expected)
    {
        float scaled = MnistDataset.Scale(pixel);

        Assert.Equal(expected, scaled, 1e-7f);
        Assert.Equal((pixel / 255f - 0.5f) / 0.5f, scaled);
    }

    [Fact]
    public void Load_SyntheticTestSplit_ScalesPixels()
    {
        byte[] images = IdxFiles.Images(count: 3, rows: 4, columns: 4, pixel: i => (byte)(i * 5));
        _folder.Write("t10k-images-idx3-ubyte", images);
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(7, 2, 1));

        using var dataset = MnistDataset.Load(_folder.Path, MnistSplit.Test);

        Assert.Equal(3, dataset.Count);
        Assert.Equal(4, dataset.Side);
        Assert.Equal(16, dataset.PixelsPerImage);
        Assert.Equal([7, 2, 1], dataset.Labels);
        Assert.Equal(images.AsSpan(16).ToArray(), dataset.RawPixels.ToArray());
        Assert.Equal([3L, 16L], dataset.Images.shape);
        Assert.Equal(torch.float32, dataset.Images.dtype);
        Assert.Equal(DeviceType.CPU, dataset.Images.device_type);
        float[] values = dataset.Images.data<float>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(MnistDataset.Scale(images[16 + i]), values[i]);
        }

        Assert.Equal(values.AsSpan(32, 16).ToArray(), dataset.GetScaledImage(2));
    }

    [Fact]
    public void Load_TrainSplit_ReadsTrainFiles()
    {
        _folder.Write("train-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 3));
        _folder.Write("train-labels-idx1-ubyte", IdxFiles.Labels(5, 0));
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 1, rows: 3, columns: 3));
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(9));

        using var dataset = MnistDataset.Load(_folder.Path, MnistSplit.Train);

        Assert.Equal(2, dataset.Count);
        Assert.Equal([5, 0], dataset.Labels);
    }

    [Fact]
    public void Load_GzipFilesOnly_ReadsCompressed()
    {
        byte[] images = IdxFiles.Images(count: 2, rows: 3, columns: 3);
        _folder.Write("t10k-images-idx3-ubyte.gz", IdxFiles.Gzip(images));
        _folder.Write("t10k-labels-idx1-ubyte.gz", IdxFiles.Gzip(IdxFiles.Labels(4, 8)));

        using var dataset = MnistDataset.Load(_folder.Path, MnistSplit.Test);

        Assert.Equal(2, dataset.Count);
        Assert.Equal([4, 8], dataset.Labels);
        Assert.Equal(images.AsSpan(16).ToArray(), dataset.RawPixels.ToArray());
    }

    [Fact]
    public void Load_PlainAndGzip_PrefersPlain()
    {
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 3));
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(4, 8));
        _folder.Write("t10k-images-idx3-ubyte.gz", [1, 2, 3]);
        _folder.Write("t10k-labels-idx1-ubyte.gz", [1, 2, 3]);

        using var dataset = MnistDataset.Load(_folder.Path, MnistSplit.Test);

        Assert.Equal([4, 8], dataset.Labels);
    }

    [Fact]
    public void Load_MissingLabels_ThrowsFileNotFound()
    {
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 3));
        string expectedPath = Path.Combine(_folder.Path, "t10k-labels-idx1-ubyte");

        var error = Assert.Throws<FileNotFoundException>(() => MnistDataset.Load(_folder.Path, MnistSplit.Test));

        Assert.Equal(expectedPath, error.FileName);
        Assert.Contains(expectedPath, error.Message, StringComparison.Ordinal);
        Assert.Contains(expectedPath + ".gz", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CountMismatch_Throws()
    {
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 3));
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(1, 2, 3));

        var error = Assert.Throws<InvalidDataException>(() => MnistDataset.Load(_folder.Path, MnistSplit.Test));

        Assert.Contains("2 images", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 labels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonSquareImages_Throws()
    {
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 4));
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(1, 2));

        var error = Assert.Throws<InvalidDataException>(() => MnistDataset.Load(_folder.Path, MnistSplit.Test));

        Assert.Contains("3x4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_InsideDisposeScope_TensorOutlivesScope()
    {
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 3));
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(1, 2));

        MnistDataset dataset;
        using (torch.NewDisposeScope())
        {
            dataset = MnistDataset.Load(_folder.Path, MnistSplit.Test);
        }

        using (dataset)
        {
            Assert.Equal(18, dataset.Images.numel());
            Assert.Equal(MnistDataset.Scale(dataset.RawPixels[17]), dataset.Images[1, 8].item<float>());
        }
    }

    [Fact]
    public void Images_AfterDispose_ThrowsObjectDisposed()
    {
        _folder.Write("t10k-images-idx3-ubyte", IdxFiles.Images(count: 2, rows: 3, columns: 3));
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(1, 2));
        var dataset = MnistDataset.Load(_folder.Path, MnistSplit.Test);

        dataset.Dispose();
        dataset.Dispose();

        Assert.Throws<ObjectDisposedException>(() => dataset.Images);
    }
}
