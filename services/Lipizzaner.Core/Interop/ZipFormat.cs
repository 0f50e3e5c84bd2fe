using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Lipizzaner.Core.Interop;

/// <summary>
/// The format of <c>torch.save</c> since PyTorch 1.6: a zip archive whose entries sit in one folder,
/// <c>&lt;archive&gt;/data.pkl</c> (the pickle, storages as persistent ids),
/// <c>&lt;archive&gt;/data/&lt;key&gt;</c> (each storage's raw bytes), <c>&lt;archive&gt;/version</c>
/// and, in newer PyTorch versions, <c>&lt;archive&gt;/byteorder</c>. PyTorch stores the entries uncompressed.
/// </summary>
internal static class ZipFormat
{
    public const string ArchiveName = "archive";

    /// <summary>The first bytes of a zip file: a local file header, or the end record of an empty archive.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && head[0] == 'P' && head[1] == 'K'
        && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));

    public static ParsedStateDict Read(Stream stream)
    {
        using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var byName = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in archive.Entries)
        {
            byName.TryAdd(entry.FullName, entry);
        }

        var pickles = byName.Keys.Where(name => name.EndsWith("/data.pkl", StringComparison.Ordinal) && name.Count(c => c == '/') == 1).ToList();
        if (pickles.Count != 1)
        {
            throw new InvalidDataException(
                pickles.Count == 0
                    ? "The zip archive has no <folder>/data.pkl, so it was not written by torch.save."
                    : $"The zip archive has {pickles.Count} data.pkl files ({string.Join(", ", pickles)}); torch.save writes one.");
        }

        string prefix = pickles[0][..^"data.pkl".Length];
        if (byName.ContainsKey(prefix + "constants.pkl") || byName.Keys.Any(name => name.StartsWith(prefix + "code/", StringComparison.Ordinal)))
        {
            throw new InvalidDataException(
                "This is a TorchScript archive (torch.jit.save), not a state dict. In Python, save the module's state_dict() " +
                "with torch.save and load that file instead.");
        }

        CheckVersion(byName, prefix);
        if (byName.TryGetValue(prefix + "byteorder", out var byteOrderEntry))
        {
            string byteOrder = Encoding.ASCII.GetString(ReadEntry(byteOrderEntry)).Trim();
            if (byteOrder != "little")
            {
                throw new InvalidDataException($"The archive's storages are in '{byteOrder}' byte order; only 'little' is supported.");
            }
        }

        byte[] pickle = ReadEntry(byName[pickles[0]]);
        var storages = new StorageTable(StorageIdLayout.Zip);
        var (root, end) = PickleReader.Load(pickle, 0, pickle.Length, storages.Load);
        if (end != pickle.Length)
        {
            throw new InvalidDataException($"{pickles[0]} has {pickle.Length - end} bytes after the end of its pickle.");
        }

        var entries = StorageTable.Entries(root);
        var data = new List<(StorageRef Storage, Memory<byte> Bytes)>(storages.Storages.Count);
        foreach (var storage in storages.Storages)
        {
            string name = prefix + "data/" + storage.Key;
            if (!byName.TryGetValue(name, out var entry))
            {
                throw new InvalidDataException($"The archive has no {name} for storage '{storage.Key}': it is incomplete.");
            }

            if (entry.Length != storage.ByteCount)
            {
                throw new InvalidDataException(
                    $"{name} has {entry.Length} bytes, but {storage.ElementCount} × {storage.Type.Name} need {storage.ByteCount}: the archive is corrupt.");
            }

            data.Add((storage, ReadEntry(entry)));
        }

        return new ParsedStateDict(entries, data);
    }

    private static void CheckVersion(Dictionary<string, ZipArchiveEntry> byName, string prefix)
    {
        if (!byName.TryGetValue(prefix + "version", out var entry) && !byName.TryGetValue(prefix + ".data/version", out entry))
        {
            throw new InvalidDataException($"The zip archive has no {prefix}version record, so it was not written by torch.save.");
        }

        string text = Encoding.ASCII.GetString(ReadEntry(entry)).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
        {
            throw new InvalidDataException($"The archive's format version '{text}' is not a positive integer.");
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        if (entry.Length > Array.MaxLength)
        {
            throw new InvalidDataException($"{entry.FullName} is larger than 2 GiB, which is not supported.");
        }

        var content = new byte[entry.Length];
        using var stream = entry.Open();
        try
        {
            stream.ReadExactly(content);
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException($"{entry.FullName} is shorter than the zip directory records, so the archive is corrupt.", error);
        }

        return content;
    }

    /// <summary>Adds an uncompressed entry, as PyTorch writes them, with a fixed time so equal content gives equal files.</summary>
    public static void WriteEntry(ZipArchive archive, string name, ReadOnlySpan<byte> content)
    {
        var entry = archive.CreateEntry($"{ArchiveName}/{name}", CompressionLevel.NoCompression);
        entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var stream = entry.Open();
        stream.Write(content);
    }
}
