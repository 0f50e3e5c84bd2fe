using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Lipizzaner.Core.Data;

/// <summary>Where and how to read an image folder.</summary>
/// <param name="Folder">Folder of images, or of class sub-folders of images.</param>
/// <param name="Side">Target height and width in pixels.</param>
/// <param name="Policy">How non-square images become square.</param>
/// <param name="Strict">Make the first unreadable file an error instead of a warning.</param>
/// <param name="CacheDirectory">Folder of cached preprocessed images; null reads every file every time.</param>
public sealed record ImageFolderOptions(
    string Folder, int Side, ResizePolicy Policy = ResizePolicy.CenterCrop, bool Strict = false, string? CacheDirectory = null);

/// <summary>
/// The JPEG and PNG images of a folder as a CPU float32 tensor of shape (<see cref="Count"/>,
/// <see cref="Side"/>²) scaled to [-1, 1] like <see cref="MnistDataset"/>, with a class label per image.
/// Images directly in the folder form one class. When there are none, each sub-folder (one level) is a
/// class, labelled by the ordinal order of the sub-folder names. Files are read in ordinal order of their names.
/// </summary>
public sealed class ImageFolderDataset : IDisposable
{
    private static readonly string[] _extensions = [".jpg", ".jpeg", ".png"];

    private readonly PreprocessedImages _images;
    private readonly torch.Tensor _tensor;
    private bool _disposed;

    private ImageFolderDataset(string folder, PreprocessedImages images, bool fromCache)
    {
        Folder = folder;
        _images = images;
        FromCache = fromCache;
        var scaled = ToFloats(images.Pixels);
        _tensor = torch.tensor(scaled, [images.Labels.Length, (long)images.Side * images.Side], torch.float32)
            .DetachFromDisposeScope();
    }

    public string Folder { get; }

    public int Count => _images.Labels.Length;

    public int Side => _images.Side;

    public int PixelsPerImage => Side * Side;

    /// <summary>Class index of each image. The array is the dataset's own, so callers must not modify it.</summary>
    public int[] Labels => _images.Labels;

    /// <summary>Class names: the sub-folder names, or the folder's own name for a folder of images.</summary>
    public IReadOnlyList<string> ClassNames => _images.ClassNames;

    /// <summary>Unscaled luminance (0 to 255), image after image, each row-major.</summary>
    public ReadOnlySpan<byte> RawPixels => _images.Pixels;

    /// <summary>Files that were skipped because they could not be decoded.</summary>
    public IReadOnlyList<SkippedImage> Skipped => _images.Skipped;

    /// <summary>Whether the images came from the cache instead of being decoded.</summary>
    public bool FromCache { get; }

    /// <summary>Scaled images, owned by this dataset, so callers must not dispose the tensor.</summary>
    public torch.Tensor Images
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _tensor;
        }
    }

    /// <summary>Returns whether <paramref name="path"/> ends in .jpg, .jpeg or .png, in any letter case.</summary>
    public static bool IsImageFile(string path) =>
        _extensions.Any(extension => path.EndsWith(extension, StringComparison.OrdinalIgnoreCase));

    /// <summary>Returns the image files of <paramref name="folder"/> with their labels, and the class names.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static (List<(string Path, int Label)> Files, List<string> ClassNames) ListFiles(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException(
                $"dataloader.path: folder '{folder}' does not exist; expected a folder of JPEG or PNG images, "
                + "or of class sub-folders of them");
        }

        var topLevel = ImageFilesIn(folder);
        if (topLevel.Count > 0)
        {
            string name = new DirectoryInfo(folder).Name;
            return ([.. topLevel.Select(path => (path, 0))], [name]);
        }

        var files = new List<(string Path, int Label)>();
        var classNames = new List<string>();
        foreach (string subFolder in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var images = ImageFilesIn(subFolder);
            if (images.Count == 0)
            {
                continue;
            }

            int label = classNames.Count;
            classNames.Add(Path.GetFileName(subFolder));
            files.AddRange(images.Select(path => (path, label)));
        }

        return (files, classNames);
    }

    /// <summary>
    /// Loads the folder of <paramref name="options"/>: from the cache when an entry for the same files
    /// and settings exists and passes its checksum, else by decoding every file (and then caching).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has no usable image, or, with
    /// <see cref="ImageFolderOptions.Strict"/>, a file could not be decoded.</exception>
    public static ImageFolderDataset Load(ImageFolderOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Side, 1);
        var (files, classNames) = ListFiles(options.Folder);
        if (files.Count == 0)
        {
            throw new InvalidDataException(
                $"dataloader.path: folder '{options.Folder}' contains no .jpg, .jpeg or .png file, "
                + "neither directly nor in a sub-folder");
        }

        string? cachePath = options.CacheDirectory is null
            ? null
            : Path.Combine(options.CacheDirectory, ImageCache.Key(files, classNames, options.Side, options.Policy) + ".bin");
        PreprocessedImages? images = null;
        if (cachePath is not null)
        {
            try
            {
                images = ImageCache.Read(cachePath, options.Side);
            }
            catch (Exception exception) when (exception is InvalidDataException or IOException)
            {
                logger.LogWarning("Image cache {Path} is damaged ({Reason}), so the images are decoded again", cachePath, exception.Message);
            }
        }

        bool fromCache = images is not null;
        if (images is not null)
        {
            if (options.Strict && images.Skipped.Count > 0)
            {
                throw StrictError(images.Skipped[0]);
            }

            foreach (var skipped in images.Skipped)
            {
                logger.LogWarning("Skipped image {Path}: {Reason}", skipped.Path, skipped.Reason);
            }
        }
        else
        {
            images = Decode(files, classNames, options, logger);
            if (cachePath is not null)
            {
                ImageCache.Write(cachePath, images);
            }
        }

        if (images.Skipped.Count > 0)
        {
            logger.LogWarning(
                "Skipped {Skipped} of {Total} image files in {Folder} that could not be decoded",
                images.Skipped.Count, files.Count, options.Folder);
        }

        logger.LogInformation(
            "Loaded {Count} images of {Width}x{Height} in {Classes} class(es) from {Folder}{Source}",
            images.Labels.Length, options.Side, options.Side, classNames.Count, options.Folder, fromCache ? " (cached)" : "");
        return new ImageFolderDataset(options.Folder, images, fromCache);
    }

    /// <summary>Returns the images scaled to [-1, 1], with their labels, as flat arrays.</summary>
    public LabelledImages ToLabelledImages() => new(ToFloats(_images.Pixels), [.. _images.Labels], PixelsPerImage);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _tensor.Dispose();
    }

    private static PreprocessedImages Decode(
        List<(string Path, int Label)> files, List<string> classNames, ImageFolderOptions options, ILogger logger)
    {
        int pixelsPerImage = options.Side * options.Side;
        var pixels = new List<byte[]>(files.Count);
        var labels = new List<int>(files.Count);
        var skipped = new List<SkippedImage>();
        foreach (var (path, label) in files)
        {
            try
            {
                byte[] content = File.ReadAllBytes(path);
                pixels.Add(ImageDecoding.DecodeSquare(content, options.Side, options.Policy));
                labels.Add(label);
            }
            catch (Exception exception) when (exception is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                var problem = new SkippedImage(path, exception.Message);
                if (options.Strict)
                {
                    throw StrictError(problem);
                }

                logger.LogWarning("Skipped image {Path}: {Reason}", path, exception.Message);
                skipped.Add(problem);
            }
        }

        if (pixels.Count == 0)
        {
            throw new InvalidDataException(
                $"dataloader.path: none of the {files.Count} image files in folder '{options.Folder}' could be decoded; "
                + "the warnings above name each file and the reason");
        }

        var all = new byte[(long)pixels.Count * pixelsPerImage];
        for (int i = 0; i < pixels.Count; i++)
        {
            pixels[i].CopyTo(all, (long)i * pixelsPerImage);
        }

        return new PreprocessedImages(options.Side, classNames, [.. labels], all, skipped);
    }

    private static InvalidDataException StrictError(SkippedImage problem) =>
        new($"Image file '{problem.Path}' could not be decoded: {problem.Reason}. Fix or remove the file, "
            + "or set dataloader.strict to false to skip it with a warning.");

    private static List<string> ImageFilesIn(string folder) =>
        [.. Directory.EnumerateFiles(folder).Where(IsImageFile).Order(StringComparer.Ordinal)];

    private static float[] ToFloats(byte[] pixels)
    {
        Span<float> table = stackalloc float[256];
        for (int value = 0; value < table.Length; value++)
        {
            table[value] = MnistDataset.Scale((byte)value);
        }

        var scaled = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            scaled[i] = table[pixels[i]];
        }

        return scaled;
    }
}
