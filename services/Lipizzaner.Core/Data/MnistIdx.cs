using System.Buffers.Binary;
using System.IO.Compression;

namespace Lipizzaner.Core.Data;

/// <summary>
/// Reader for the IDX format that MNIST is published in: a big-endian header (magic number, then
/// one 32-bit size per dimension) followed by the unsigned-byte data. Files whose name ends in
/// ".gz" are decompressed while reading.
/// </summary>
public static class MnistIdx
{
    /// <summary>Magic number of an unsigned-byte IDX file with 3 dimensions (images, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte IDX file with 1 dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    public const int ImagesHeaderLength = 16;

    public const int LabelsHeaderLength = 8;

    private const string Fix = "Delete it so it is fetched again, or point --data-dir at valid IDX files.";

    /// <summary>Reads an image file (magic 0x00000803), plain or ".gz"-compressed.</summary>
    /// <exception cref="InvalidDataException">The header is invalid or the length does not match it.</exception>
    public static IdxImages ReadImages(string path)
    {
        using var stream = OpenDecompressed(path);
        return ReadImages(stream, path);
    }

    /// <summary>Reads a label file (magic 0x00000801), plain or ".gz"-compressed.</summary>
    /// <exception cref="InvalidDataException">The header is invalid or the length does not match it.</exception>
    public static byte[] ReadLabels(string path)
    {
        using var stream = OpenDecompressed(path);
        return ReadLabels(stream, path);
    }

    /// <summary>
    /// Reads an image file's content from <paramref name="stream"/> to its end.
    /// <paramref name="source"/> names the file in error messages.
    /// </summary>
    public static IdxImages ReadImages(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string kind = "IDX image file";
        Span<byte> header = stackalloc byte[ImagesHeaderLength];
        long available = ReadHeader(stream, header, kind, source);
        CheckMagic(BinaryPrimitives.ReadInt32BigEndian(header), ImagesMagic, kind, source);

        uint count = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        uint rows = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        uint columns = BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
        if (rows == 0 || columns == 0)
        {
            throw Invalid(
                kind, source,
                $"the header declares {count} images of {rows}x{columns} pixels, but rows and columns " +
                "must be at least 1");
        }

        // rows * columns fits in 64 bits. The count is multiplied in only when that product is at most
        // Array.MaxLength (< 2^31), so the total fits as well.
        ulong pixelsPerImage = (ulong)rows * columns;
        ulong dataLength = pixelsPerImage <= (ulong)Array.MaxLength ? count * pixelsPerImage : ulong.MaxValue;
        if (dataLength > (ulong)Array.MaxLength)
        {
            throw Invalid(
                kind, source,
                $"the header declares {count} images of {rows}x{columns} pixels, more than the " +
                $"{Array.MaxLength} bytes that one array can contain");
        }

        byte[] pixels = ReadData(stream, (int)dataLength, ImagesHeaderLength, available, kind, source,
            $"{count} images of {rows}x{columns} pixels");
        return new IdxImages((int)count, (int)rows, (int)columns, pixels);
    }

    /// <summary>
    /// Reads a label file's content from <paramref name="stream"/> to its end.
    /// <paramref name="source"/> names the file in error messages.
    /// </summary>
    public static byte[] ReadLabels(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string kind = "IDX label file";
        Span<byte> header = stackalloc byte[LabelsHeaderLength];
        long available = ReadHeader(stream, header, kind, source);
        CheckMagic(BinaryPrimitives.ReadInt32BigEndian(header), LabelsMagic, kind, source);

        uint count = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (count > Array.MaxLength)
        {
            throw Invalid(
                kind, source,
                $"the header declares {count} labels, more than the {Array.MaxLength} that one array can contain");
        }

        return ReadData(stream, (int)count, LabelsHeaderLength, available, kind, source, $"{count} labels");
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading, through a <see cref="GZipStream"/> when the name
    /// ends in ".gz".
    /// </summary>
    public static Stream OpenDecompressed(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            return file;
        }

        return new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);
    }

    /// <summary>
    /// Fills <paramref name="header"/> and returns the number of bytes left after it when the
    /// stream supports seeking (a plain file), or -1 when it does not (a decompressing stream).
    /// </summary>
    private static long ReadHeader(Stream stream, Span<byte> header, string kind, string source)
    {
        int read;
        try
        {
            read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException exception)
        {
            // GZipStream reports a corrupt or non-gzip file this way, without naming the file.
            throw new InvalidDataException(
                $"{kind} {source} is not valid gzip data ({exception.Message}). {Fix}", exception);
        }

        bool looksGzipped = read >= 2 && header[0] == 0x1F && header[1] == 0x8B;
        if (looksGzipped && !source.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"{kind} {source} is gzip-compressed but its name does not end in .gz. " +
                $"Rename it to {Path.GetFileName(source)}.gz, so that it is decompressed while reading.");
        }

        if (read < header.Length)
        {
            throw Invalid(
                kind, source, $"its content is {read} bytes long, shorter than the {header.Length}-byte header");
        }

        return stream.CanSeek ? stream.Length - stream.Position : -1;
    }

    private static void CheckMagic(int magic, int expected, string kind, string source)
    {
        if (magic == expected)
        {
            return;
        }

        string hint = magic switch
        {
            ImagesMagic => " (the magic number of an image file, so the image and label files may be swapped)",
            LabelsMagic => " (the magic number of a label file, so the image and label files may be swapped)",
            _ => "",
        };
        throw Invalid(kind, source, $"its magic number is 0x{magic:X8}{hint}, expected 0x{expected:X8}");
    }

    private static byte[] ReadData(
        Stream stream, int dataLength, int headerLength, long available, string kind, string source,
        string declared)
    {
        long expectedFileLength = headerLength + (long)dataLength;
        if (available >= 0 && available != dataLength)
        {
            throw Invalid(
                kind, source,
                $"it is {headerLength + available} bytes long, but its header declares {declared}, " +
                $"which take {expectedFileLength} bytes" + (available < dataLength ? " (the file is truncated)" : ""));
        }

        var data = new byte[dataLength];
        int read;
        bool hasTrailingData;
        try
        {
            read = stream.ReadAtLeast(data, dataLength, throwOnEndOfStream: false);
            hasTrailingData = read == dataLength && stream.ReadByte() != -1;
        }
        catch (InvalidDataException exception)
        {
            throw new InvalidDataException(
                $"{kind} {source} is not valid gzip data ({exception.Message}). {Fix}", exception);
        }

        if (read < dataLength)
        {
            throw Invalid(
                kind, source,
                $"its content ends after {headerLength + (long)read} bytes, but its header declares {declared}, " +
                $"which take {expectedFileLength} bytes (the file is truncated)");
        }

        if (hasTrailingData)
        {
            throw Invalid(
                kind, source,
                $"it is longer than the {expectedFileLength} bytes that its header declares ({declared})");
        }

        return data;
    }

    private static InvalidDataException Invalid(string kind, string source, string problem) =>
        new($"{kind} {source} is invalid: {problem}. {Fix}");
}
