using TorchSharp;

namespace Lipizzaner.Core.Data;

/// <summary>The two parts that MNIST is published in.</summary>
public enum MnistSplit
{
    /// <summary>60,000 training images (train-*-ubyte).</summary>
    Train,

    /// <summary>10,000 test images (t10k-*-ubyte).</summary>
    Test,
}

/// <summary>
/// MNIST images and labels of one split, with the images as a CPU float32 tensor of shape
/// (<see cref="Count"/>, <see cref="Side"/>²) scaled to [-1, 1] by <see cref="Scale"/>. The
/// tensor is detached from every dispose scope, so it lives until <see cref="Dispose"/>.
/// </summary>
public sealed class MnistDataset : IDisposable
{
    private readonly IdxImages _images;
    private readonly byte[] _labels;
    private readonly torch.Tensor _tensor;
    private bool _disposed;

    private MnistDataset(IdxImages images, byte[] labels)
    {
        _images = images;
        _labels = labels;
        _tensor = CreateTensor(images);
    }

    /// <summary>Number of images (and labels).</summary>
    public int Count => _images.Count;

    /// <summary>Height and width of each image in pixels (28 for MNIST).</summary>
    public int Side => _images.Rows;

    /// <summary>Pixels per image, <see cref="Side"/>².</summary>
    public int PixelsPerImage => _images.PixelsPerImage;

    /// <summary>
    /// Digit label (0 to 9 in MNIST) of each image. The array is the dataset's own, so callers must not modify it.
    /// </summary>
    public byte[] Labels => _labels;

    /// <summary>Unscaled pixels (0 to 255), image after image, each image row-major.</summary>
    public ReadOnlySpan<byte> RawPixels => _images.Pixels;

    /// <summary>
    /// Scaled images: a CPU float32 tensor of shape (<see cref="Count"/>, <see cref="PixelsPerImage"/>)
    /// owned by this dataset, so callers must not dispose it.
    /// </summary>
    public torch.Tensor Images
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _tensor;
        }
    }

    /// <summary>
    /// Maps a pixel to [-1, 1] with the float32 operations, in the same order, of torchvision's
    /// ToTensor (divide by 255) followed by Normalize(mean 0.5, std 0.5).
    /// </summary>
    public static float Scale(byte pixel) => (pixel / 255f - 0.5f) / 0.5f;

    /// <summary>Name of the uncompressed image file of <paramref name="split"/>.</summary>
    public static string ImagesFileName(MnistSplit split) => split switch
    {
        MnistSplit.Train => "train-images-idx3-ubyte",
        MnistSplit.Test => "t10k-images-idx3-ubyte",
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Expected Train or Test."),
    };

    /// <summary>Name of the uncompressed label file of <paramref name="split"/>.</summary>
    public static string LabelsFileName(MnistSplit split) => split switch
    {
        MnistSplit.Train => "train-labels-idx1-ubyte",
        MnistSplit.Test => "t10k-labels-idx1-ubyte",
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Expected Train or Test."),
    };

    /// <summary>
    /// Loads <paramref name="split"/> from <paramref name="directory"/>, which contains the IDX files
    /// under their published names, uncompressed or with a ".gz" suffix (the uncompressed file is
    /// used when both exist).
    /// </summary>
    /// <exception cref="FileNotFoundException">An image or label file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not valid IDX, the images are not square, or
    /// the image and label counts differ.</exception>
    public static MnistDataset Load(string directory, MnistSplit split)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string imagesPath = FindFile(directory, ImagesFileName(split));
        string labelsPath = FindFile(directory, LabelsFileName(split));

        IdxImages images = MnistIdx.ReadImages(imagesPath);
        byte[] labels = MnistIdx.ReadLabels(labelsPath);
        if (images.Rows != images.Columns)
        {
            throw new InvalidDataException(
                $"MNIST image file {imagesPath} contains {images.Rows}x{images.Columns} images, but square images " +
                "are expected. Point --data-dir at a folder with square IDX images.");
        }

        if (images.Count != labels.Length)
        {
            throw new InvalidDataException(
                $"MNIST image file {imagesPath} contains {images.Count} images, but label file {labelsPath} contains " +
                $"{labels.Length} labels. Replace them with files of one matching pair.");
        }

        return new MnistDataset(images, labels);
    }

    /// <summary>
    /// Returns the path of <paramref name="fileName"/> in <paramref name="directory"/>, or of
    /// <paramref name="fileName"/>.gz when only the compressed file exists.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither file exists.</exception>
    public static string FindFile(string directory, string fileName)
    {
        string plain = Path.Combine(directory, fileName);
        if (File.Exists(plain))
        {
            return plain;
        }

        string compressed = plain + ".gz";
        if (File.Exists(compressed))
        {
            return compressed;
        }

        throw new FileNotFoundException(
            $"MNIST file {plain} not found (nor {compressed}). Copy the four MNIST IDX files into {directory}, " +
            "or leave out --data-dir so that MNIST is downloaded into the cache.",
            plain);
    }

    /// <summary>Returns the scaled pixels of image <paramref name="index"/>.</summary>
    public float[] GetScaledImage(int index)
    {
        ReadOnlySpan<byte> image = _images.GetImage(index);
        var scaled = new float[image.Length];
        for (int i = 0; i < image.Length; i++)
        {
            scaled[i] = Scale(image[i]);
        }

        return scaled;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _tensor.Dispose();
    }

    private static torch.Tensor CreateTensor(IdxImages images)
    {
        // A table of the 256 possible values keeps the conversion of 47 million pixels cheap.
        Span<float> table = stackalloc float[256];
        for (int value = 0; value < table.Length; value++)
        {
            table[value] = Scale((byte)value);
        }

        ReadOnlySpan<byte> pixels = images.Pixels;
        var scaled = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            scaled[i] = table[pixels[i]];
        }

        torch.Tensor tensor = torch.tensor(scaled, [images.Count, images.PixelsPerImage], torch.float32);
        return tensor.DetachFromDisposeScope();
    }
}
