using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace Lipizzaner.Core.Tests.Interop;

/// <summary>Builds pickle opcodes byte by byte, to make well-formed and hostile test files.</summary>
public sealed class PickleBytes
{
    private readonly List<byte> _bytes = [];

    public PickleBytes Proto(int protocol) => Op(0x80).Raw((byte)protocol);

    public PickleBytes Op(byte opcode) => Raw(opcode);

    public PickleBytes Op(char opcode) => Raw((byte)opcode);

    public PickleBytes Global(string module, string name) => Op('c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>SHORT_BINUNICODE followed by MEMOIZE, as protocol 4 writes strings.</summary>
    public PickleBytes ShortText(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        return Op(0x8c).Raw((byte)bytes.Length).Raw(bytes).Op(0x94);
    }

    public PickleBytes Text(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        return Op('X').Raw(length).Raw(bytes);
    }

    public PickleBytes Number(long value)
    {
        if (value is >= 0 and < 256)
        {
            return Op('K').Raw((byte)value);
        }

        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, checked((int)value));
        return Op('J').Raw(bytes);
    }

    public PickleBytes BigNumber(BigInteger value)
    {
        byte[] bytes = value.ToByteArray(isUnsigned: false, isBigEndian: false);
        return Op(0x8a).Raw((byte)bytes.Length).Raw(bytes);
    }

    /// <summary>A tuple of integers, as sizes and strides are written.</summary>
    public PickleBytes NumberTuple(params long[] values)
    {
        Op('(');
        foreach (long value in values)
        {
            Number(value);
        }

        return Op('t');
    }

    /// <summary>
    /// <c>_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())</c> with the storage given as a
    /// persistent id: five items in the zip format, six (the last None) in the legacy format.
    /// </summary>
    public PickleBytes Tensor(string storageType, string key, long elementCount, long offset, long[] size, long[] stride, bool legacy = false)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        Op('(').Text("storage").Global("torch", storageType).Text(key).Text("cpu").Number(elementCount);
        if (legacy)
        {
            Op('N');
        }

        Op('t').Op('Q');
        Number(offset).NumberTuple(size).NumberTuple(stride).Op(0x89);
        return Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
    }

    public PickleBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];
}

/// <summary>Wraps pickles into the two file formats of <c>torch.save</c>.</summary>
public static class HandMadeFiles
{
    public static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A zip archive like torch.save's: <c>archive/data.pkl</c>, <c>archive/data/KEY</c>, <c>archive/version</c>.</summary>
    public static byte[] Zip(byte[] pickle, IReadOnlyDictionary<string, byte[]>? storages = null, string version = "3\n")
    {
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(archive, "archive/data.pkl", pickle);
            foreach (var (key, bytes) in storages ?? new Dictionary<string, byte[]>())
            {
                Add(archive, $"archive/data/{key}", bytes);
            }

            Add(archive, "archive/version", Encoding.ASCII.GetBytes(version));
        }

        return stream.ToArray();
    }

    /// <summary>
    /// A legacy file: magic number, protocol 1001, system information, <paramref name="mainPickle"/>, the key list,
    /// then each storage as an int64 element count and its bytes.
    /// </summary>
    public static byte[] Legacy(byte[] mainPickle, IReadOnlyList<(string Key, long ElementCount, byte[] Bytes)>? storages = null, BigInteger? magic = null)
    {
        storages ??= [];
        var bytes = new List<byte>();
        bytes.AddRange(new PickleBytes().Proto(2).BigNumber(magic ?? LegacyMagic).Op('.').ToArray());
        bytes.AddRange(new PickleBytes().Proto(2).Op('M').Raw(0xe9, 0x03).Op('.').ToArray());
        bytes.AddRange(new PickleBytes().Proto(2).Op('}').Op('(').Text("little_endian").Op(0x88).Op('u').Op('.').ToArray());
        bytes.AddRange(mainPickle);
        var keys = new PickleBytes().Proto(2).Op(']').Op('(');
        foreach (var (key, _, _) in storages)
        {
            keys.Text(key);
        }

        bytes.AddRange(keys.Op('e').Op('.').ToArray());
        foreach (var (_, count, data) in storages)
        {
            var header = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(header, count);
            bytes.AddRange(header);
            bytes.AddRange(data);
        }

        return [.. bytes];
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    private static void Add(ZipArchive archive, string name, byte[] content)
    {
        var entry = archive.CreateEntry(name, CompressionLevel.NoCompression);
        using var stream = entry.Open();
        stream.Write(content);
    }
}
