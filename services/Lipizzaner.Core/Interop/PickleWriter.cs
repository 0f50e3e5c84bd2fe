using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Lipizzaner.Core.Interop;

/// <summary>
/// Writes the pickle of a state dict the way <c>torch.save</c> does, in protocol 2: an
/// <c>collections.OrderedDict</c> of names to <c>torch._utils._rebuild_tensor_v2</c> calls whose storages
/// are persistent ids <c>('storage', torch.FloatStorage, key, 'cpu', element_count)</c>. The memo is not
/// used, so each global is spelled out where it is needed.
/// </summary>
internal sealed class PickleWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>One entry: the name, the storage's key and type, and the contiguous size and stride.</summary>
    public sealed record Entry(string Name, string StorageKey, TorchStorageType Type, long ElementCount, long[] Size, long[] Stride);

    public static byte[] StateDict(IReadOnlyList<Entry> entries)
    {
        var writer = new PickleWriter();
        writer.Op(0x80); // PROTO 2
        writer.Op(2);
        writer.Global("collections", "OrderedDict");
        writer.Op((byte)')'); // EMPTY_TUPLE
        writer.Op((byte)'R'); // REDUCE
        if (entries.Count > 0)
        {
            writer.Op((byte)'('); // MARK
            foreach (var entry in entries)
            {
                writer.String(entry.Name);
                writer.Global("torch._utils", "_rebuild_tensor_v2");
                writer.Op((byte)'(');
                writer.Op((byte)'(');
                writer.String("storage");
                writer.Global("torch", entry.Type.Name);
                writer.String(entry.StorageKey);
                writer.String("cpu");
                writer.Int(entry.ElementCount);
                writer.Op((byte)'t'); // TUPLE
                writer.Op((byte)'Q'); // BINPERSID
                writer.Int(0); // storage offset
                writer.Tuple(entry.Size);
                writer.Tuple(entry.Stride);
                writer.Op(0x89); // NEWFALSE: requires_grad
                writer.Global("collections", "OrderedDict"); // backward_hooks: an empty OrderedDict
                writer.Op((byte)')');
                writer.Op((byte)'R');
                writer.Op((byte)'t');
                writer.Op((byte)'R');
            }

            writer.Op((byte)'u'); // SETITEMS
        }

        writer.Op((byte)'.'); // STOP
        return writer._buffer.WrittenSpan.ToArray();
    }

    private void Op(byte opcode)
    {
        _buffer.GetSpan(1)[0] = opcode;
        _buffer.Advance(1);
    }

    private void Global(string module, string name)
    {
        Op((byte)'c');
        _buffer.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    private void String(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Op((byte)'X'); // BINUNICODE
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
        _buffer.Write(length);
        _buffer.Write(bytes);
    }

    /// <summary>Writes an integer with the shortest opcode, as Python's pickler does.</summary>
    private void Int(long value)
    {
        if (value is >= 0 and <= byte.MaxValue)
        {
            Op((byte)'K'); // BININT1
            Op((byte)value);
        }
        else if (value is >= 0 and <= ushort.MaxValue)
        {
            Op((byte)'M'); // BININT2
            Span<byte> bytes = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
            _buffer.Write(bytes);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            Op((byte)'J'); // BININT
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
            _buffer.Write(bytes);
        }
        else
        {
            byte[] bytes = new BigInteger(value).ToByteArray(isUnsigned: false, isBigEndian: false);
            Op(0x8a); // LONG1
            Op((byte)bytes.Length);
            _buffer.Write(bytes);
        }
    }

    private void Tuple(long[] values)
    {
        if (values.Length == 0)
        {
            Op((byte)')');
            return;
        }

        if (values.Length > 3)
        {
            Op((byte)'(');
        }

        foreach (long value in values)
        {
            Int(value);
        }

        Op(values.Length switch
        {
            1 => 0x85, // TUPLE1
            2 => 0x86, // TUPLE2
            3 => 0x87, // TUPLE3
            _ => (byte)'t',
        });
    }
}
