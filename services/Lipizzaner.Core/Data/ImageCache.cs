using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lipizzaner.Core.IO;

namespace Lipizzaner.Core.Data;

/// <summary>An image file that was not used, with the reason.</summary>
public sealed record SkippedImage(string Path, string Reason);

/// <summary>What one load of an image folder produced: <see cref="Side"/>² bytes per image, row-major.</summary>
public sealed record PreprocessedImages(
    int Side, IReadOnlyList<string> ClassNames, int[] Labels, byte[] Pixels, IReadOnlyList<SkippedImage> Skipped);

/// <summary>
/// Cache of preprocessed image folders. A file is named by a SHA-256 over every input that changes the
/// result (file paths, sizes and modification times, target size, resize policy, format version), so a
/// changed file or setting makes a new key. Each file ends with the SHA-256 of the bytes before it,
/// checked on every read.
/// </summary>
public static class ImageCache
{
    /// <summary>Version of the preprocessing and of the cache layout, to be raised whenever either changes.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] _magic = "LIPZIMG\n"u8.ToArray();

    /// <summary>Cache folder of preprocessed images: <c>images</c> under <see cref="LipizzanerPaths.DefaultCacheDirectory"/>.</summary>
    public static string DefaultDirectory => Path.Combine(LipizzanerPaths.DefaultCacheDirectory, "images");

    /// <summary>Returns the lowercase hexadecimal cache key of the given files (with their labels) and settings.</summary>
    public static string Key(IReadOnlyList<(string Path, int Label)> files, IReadOnlyList<string> classNames, int side, ResizePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(classNames);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"format {FormatVersion}\nside {side}\npolicy {policy}\n");
        foreach (string name in classNames)
        {
            text.Append(CultureInfo.InvariantCulture, $"class {name}\n");
        }

        foreach (var (path, label) in files)
        {
            var info = new FileInfo(path);
            long length = info.Exists ? info.Length : -1;
            long modified = info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
            text.Append(CultureInfo.InvariantCulture, $"{Path.GetFullPath(path)}\t{label}\t{length}\t{modified}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static void Write(string path, PreprocessedImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(_magic);
            writer.Write(FormatVersion);
            writer.Write(images.Side);
            writer.Write(images.Labels.Length);
            writer.Write(images.ClassNames.Count);
            foreach (string name in images.ClassNames)
            {
                writer.Write(name);
            }

            foreach (int label in images.Labels)
            {
                writer.Write(label);
            }

            writer.Write(images.Pixels);
            writer.Write(images.Skipped.Count);
            foreach (var skipped in images.Skipped)
            {
                writer.Write(skipped.Path);
                writer.Write(skipped.Reason);
            }
        }

        byte[] content = buffer.ToArray();
        byte[] hash = SHA256.HashData(content);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(content);
            stream.Write(hash);
        });
    }

    /// <summary>
    /// Reads a cache file, returning null when it does not exist. Throws <see cref="InvalidDataException"/>
    /// when it exists but is damaged (checksum, layout or expected side).
    /// </summary>
    public static PreprocessedImages? Read(string path, int expectedSide)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] bytes = File.ReadAllBytes(path);
        const int hashLength = 32;
        if (bytes.Length < _magic.Length + hashLength)
        {
            throw new InvalidDataException($"the file is too short ({bytes.Length} bytes)");
        }

        var content = bytes.AsSpan(0, bytes.Length - hashLength);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - hashLength)))
        {
            throw new InvalidDataException("the checksum does not match the content");
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, 0, content.Length), Encoding.UTF8);
            if (!reader.ReadBytes(_magic.Length).AsSpan().SequenceEqual(_magic) || reader.ReadInt32() != FormatVersion)
            {
                throw new InvalidDataException("the file is not an image cache of this version");
            }

            int side = reader.ReadInt32();
            int count = reader.ReadInt32();
            int classCount = reader.ReadInt32();
            if (side != expectedSide || count < 0 || classCount < 0)
            {
                throw new InvalidDataException($"the header (side {side}, {count} images, {classCount} classes) is not as expected");
            }

            var classNames = new string[classCount];
            for (int i = 0; i < classCount; i++)
            {
                classNames[i] = reader.ReadString();
            }

            var labels = new int[count];
            for (int i = 0; i < count; i++)
            {
                labels[i] = reader.ReadInt32();
                if (labels[i] < 0 || labels[i] >= classCount)
                {
                    throw new InvalidDataException($"label {labels[i]} is out of range");
                }
            }

            long pixelCount = (long)count * side * side;
            byte[] pixels = reader.ReadBytes(checked((int)pixelCount));
            if (pixels.Length != pixelCount)
            {
                throw new InvalidDataException("the pixels are truncated");
            }

            int skippedCount = reader.ReadInt32();
            var skipped = new List<SkippedImage>();
            for (int i = 0; i < skippedCount; i++)
            {
                skipped.Add(new SkippedImage(reader.ReadString(), reader.ReadString()));
            }

            return new PreprocessedImages(side, classNames, labels, pixels, skipped);
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("the file ends early", exception);
        }
        catch (OverflowException exception)
        {
            throw new InvalidDataException("the header is out of range", exception);
        }
    }
}
