using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace Lipizzaner.Core.Interop;

/// <summary>A state dict as read from a file: its entries in order and the bytes of every storage they use.</summary>
internal sealed record ParsedStateDict(
    IReadOnlyList<(string Name, TensorRef Tensor)> Entries,
    IReadOnlyList<(StorageRef Storage, Memory<byte> Bytes)> Storages);

/// <summary>
/// The format of <c>torch.save</c> before PyTorch 1.6 (and with <c>_use_new_zipfile_serialization=False</c>):
/// five pickles in a row — the magic number, the protocol version 1001, a dict of system facts, the
/// object itself with its storages as persistent ids, and the list of storage keys — followed, for
/// each listed key, by the storage's element count (int64) and its bytes, little-endian.
/// </summary>
internal static class LegacyFormat
{
    public const long ProtocolVersion = 1001;

    /// <summary>0x1950a86a20f9469cfc6c, the number every legacy file starts with.</summary>
    public static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356", CultureInfo.InvariantCulture);

    public static ParsedStateDict Read(byte[] data)
    {
        var (magic, position) = PickleReader.Load(data, 0, data.Length, PickleReader.RejectPersistentId);
        if (!(magic is BigInteger number && number == MagicNumber))
        {
            throw new InvalidDataException(
                "Not a PyTorch file: it starts with a pickle but not with torch.save's magic number 0x1950a86a20f9469cfc6c.");
        }

        (object? protocol, position) = PickleReader.Load(data, position, data.Length, PickleReader.RejectPersistentId);
        if (protocol is not ProtocolVersion)
        {
            throw new InvalidDataException($"Unsupported legacy torch.save protocol {protocol}; only {ProtocolVersion} is known.");
        }

        (object? systemInfo, position) = PickleReader.Load(data, position, data.Length, PickleReader.RejectPersistentId);
        if (systemInfo is not PickleDict info)
        {
            throw new InvalidDataException("The legacy file's system information is missing or malformed.");
        }

        if (info.Items.TryGetValue("little_endian", out object? littleEndian) && littleEndian is false)
        {
            throw new InvalidDataException("The file was saved on a big-endian machine, whose storage bytes are not supported.");
        }

        var storages = new StorageTable(StorageIdLayout.Legacy);
        (object? root, position) = PickleReader.Load(data, position, data.Length, storages.Load);
        var entries = StorageTable.Entries(root);

        (object? keyList, position) = PickleReader.Load(data, position, data.Length, PickleReader.RejectPersistentId);
        if (keyList is not List<object?> keys || keys.Any(key => key is not string))
        {
            throw new InvalidDataException("The legacy file's list of storage keys is missing or malformed.");
        }

        var bytes = new Dictionary<StorageRef, Memory<byte>>();
        foreach (string key in keys.Cast<string>())
        {
            if (!storages.TryGet(key, out var storage))
            {
                throw new InvalidDataException($"The file lists storage '{key}', which no tensor uses.");
            }

            if (bytes.ContainsKey(storage))
            {
                throw new InvalidDataException($"The file lists storage '{key}' twice.");
            }

            if (data.Length - position < sizeof(long))
            {
                throw Truncated(key);
            }

            long count = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(position, sizeof(long)));
            position += sizeof(long);
            if (count != storage.ElementCount)
            {
                throw new InvalidDataException(
                    $"Storage '{key}' has {count} elements, but its tensors were saved with {storage.ElementCount}: the file is corrupt.");
            }

            if (storage.ByteCount > data.Length - position)
            {
                throw Truncated(key);
            }

            bytes.Add(storage, data.AsMemory(position, (int)storage.ByteCount));
            position += (int)storage.ByteCount;
        }

        var missing = storages.Storages.FirstOrDefault(storage => !bytes.ContainsKey(storage));
        if (missing is not null)
        {
            throw new InvalidDataException($"The file has no data for storage '{missing.Key}'.");
        }

        if (position != data.Length)
        {
            throw new InvalidDataException(
                $"The file has {data.Length - position} unexpected bytes after its last storage: it is corrupt or not a single torch.save file.");
        }

        return new ParsedStateDict(entries, [.. storages.Storages.Select(storage => (storage, bytes[storage]))]);
    }

    private static InvalidDataException Truncated(string key) =>
        new($"The file ends inside storage '{key}': it is truncated.");
}
