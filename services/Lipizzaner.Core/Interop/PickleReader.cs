using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Lipizzaner.Core.Interop;

/// <summary>
/// A restricted unpickler for the pickles inside PyTorch state-dict files (protocols 0 to 5).
/// It builds plain data only: <see langword="null"/>, <see cref="bool"/>, <see cref="long"/>,
/// <see cref="BigInteger"/>, <see cref="double"/>, <see cref="string"/>, <see cref="byte"/>[], lists
/// (<see cref="List{T}"/> of object), <see cref="PickleTuple"/>, <see cref="PickleDict"/>, and the
/// tensor descriptions <see cref="StorageRef"/> and <see cref="TensorRef"/>. No Python code exists
/// here to run: a global (<c>GLOBAL</c>, <c>STACK_GLOBAL</c>, <c>INST</c>) is looked up in a fixed
/// allow-list the moment its opcode is read, and any other name stops reading with an
/// <see cref="InvalidDataException"/> that names it. Tensors themselves are made only after a whole
/// file has been read, so a rejected file never gets that far.
/// </summary>
internal sealed class PickleReader
{
    private const int HighestProtocol = 5;
    private const int MaxDimensions = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _end;
    private readonly Func<object?, object> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;
    private int _opcodePosition;

    private PickleReader(byte[] data, int start, int end, Func<object?, object> persistentLoad)
    {
        _data = data;
        _position = start;
        _end = end;
        _persistentLoad = persistentLoad;
    }

    /// <summary>
    /// Reads one pickle from <paramref name="data"/>[<paramref name="start"/>..<paramref name="end"/>) and
    /// returns its value and the position just after its <c>STOP</c> opcode. <paramref name="persistentLoad"/>
    /// resolves a persistent id (<c>BINPERSID</c>) to a value and throws for ids it does not accept.
    /// </summary>
    /// <exception cref="InvalidDataException">The pickle is truncated, malformed, names a global outside the
    /// allow-list, or uses an opcode that state dicts do not need.</exception>
    public static (object? Value, int End) Load(byte[] data, int start, int end, Func<object?, object> persistentLoad)
    {
        var reader = new PickleReader(data, start, end, persistentLoad);
        object? value = reader.Run();
        return (value, reader._position);
    }

    /// <summary>Rejects every persistent id: the persistent load for the pickles of a legacy file that contain no tensors.</summary>
    public static object RejectPersistentId(object? pid) =>
        throw new InvalidDataException($"Unexpected persistent id {PickleValueNames.TypeName(pid)} in a pickle that should contain plain data only.");

    private object? Run()
    {
        while (true)
        {
            _opcodePosition = _position;
            byte opcode = ReadByte();
            switch (opcode)
            {
                case (byte)'.': // STOP
                    return Pop();
                case 0x80: // PROTO
                    int protocol = ReadByte();
                    if (protocol > HighestProtocol)
                    {
                        throw Error($"pickle protocol {protocol} is newer than the highest known ({HighestProtocol})");
                    }

                    break;
                case 0x95: // FRAME: framing is advisory, so the opcodes inside are read as usual.
                    _ = ReadLength(8);
                    break;
                case (byte)'(': // MARK
                    _marks.Add(_stack.Count);
                    break;
                case (byte)'0': // POP
                    if (_stack.Count > MarkBase)
                    {
                        _stack.RemoveAt(_stack.Count - 1);
                    }
                    else
                    {
                        PopMark();
                    }

                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;

                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'I': // INT (text; 00 and 01 are False and True)
                    Push(ParseTextInt(ReadLine()));
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadSpan(2)));
                    break;
                case (byte)'L': // LONG (text)
                    Push(ParseTextLong(ReadLine()));
                    break;
                case 0x8a: // LONG1
                    Push(DecodeLong(ReadSpan(ReadByte())));
                    break;
                case 0x8b: // LONG4
                    Push(DecodeLong(ReadSpan(ReadLength(4))));
                    break;
                case (byte)'F': // FLOAT (text)
                    Push(ParseTextFloat(ReadLine()));
                    break;
                case (byte)'G': // BINFLOAT
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadSpan(8)));
                    break;

                case (byte)'X': // BINUNICODE
                    Push(DecodeString(ReadSpan(ReadLength(4))));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(DecodeString(ReadSpan(ReadByte())));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(DecodeString(ReadSpan(ReadLength(8))));
                    break;
                case (byte)'T': // BINSTRING (a Python 2 str, decoded as UTF-8 like torch.load does)
                    Push(DecodeString(ReadSpan(ReadLength(4))));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(DecodeString(ReadSpan(ReadByte())));
                    break;
                case (byte)'B': // BINBYTES
                    Push(ReadSpan(ReadLength(4)).ToArray());
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(ReadSpan(ReadByte()).ToArray());
                    break;
                case 0x8e: // BINBYTES8
                    Push(ReadSpan(ReadLength(8)).ToArray());
                    break;

                case (byte)')': // EMPTY_TUPLE
                    Push(PickleTuple.Empty);
                    break;
                case 0x85: // TUPLE1
                    Push(new PickleTuple([Pop()]));
                    break;
                case 0x86: // TUPLE2
                    {
                        object? second = Pop();
                        object? first = Pop();
                        Push(new PickleTuple([first, second]));
                        break;
                    }

                case 0x87: // TUPLE3
                    {
                        object? third = Pop();
                        object? second = Pop();
                        object? first = Pop();
                        Push(new PickleTuple([first, second, third]));
                        break;
                    }

                case (byte)'t': // TUPLE
                    Push(new PickleTuple(PopMark()));
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)'l': // LIST
                    Push(PopMark());
                    break;
                case (byte)'a': // APPEND
                    {
                        object? item = Pop();
                        PeekAs<List<object?>>("APPEND").Add(item);
                        break;
                    }

                case (byte)'e': // APPENDS
                    {
                        var items = PopMark();
                        PeekAs<List<object?>>("APPENDS").AddRange(items);
                        break;
                    }

                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict(isOrderedDict: false));
                    break;
                case (byte)'d': // DICT
                    {
                        var dict = new PickleDict(isOrderedDict: false);
                        SetItems(dict, PopMark());
                        Push(dict);
                        break;
                    }

                case (byte)'s': // SETITEM
                    {
                        object? value = Pop();
                        object? key = Pop();
                        SetItems(PeekAs<PickleDict>("SETITEM"), [key, value]);
                        break;
                    }

                case (byte)'u': // SETITEMS
                    {
                        var items = PopMark();
                        SetItems(PeekAs<PickleDict>("SETITEMS"), items);
                        break;
                    }

                case (byte)'p': // PUT (text)
                    _memo[ParseMemoIndex(ReadLine())] = Peek();
                    break;
                case (byte)'q': // BINPUT
                    _memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4))] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    _memo[_memo.Count] = Peek();
                    break;
                case (byte)'g': // GET (text)
                    Push(Recall(ParseMemoIndex(ReadLine())));
                    break;
                case (byte)'h': // BINGET
                    Push(Recall(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4))));
                    break;

                case (byte)'c': // GLOBAL
                    {
                        string module = ReadLine();
                        string name = ReadLine();
                        Push(ResolveGlobal(module, name));
                        break;
                    }

                case 0x93: // STACK_GLOBAL
                    {
                        object? name = Pop();
                        object? module = Pop();
                        if (module is not string moduleText || name is not string nameText)
                        {
                            throw Error($"STACK_GLOBAL needs two strings, found {PickleValueNames.TypeName(module)} and {PickleValueNames.TypeName(name)}");
                        }

                        Push(ResolveGlobal(moduleText, nameText));
                        break;
                    }

                case (byte)'i': // INST names a class inline. It is checked like GLOBAL and then rejected.
                    _ = ResolveGlobal(ReadLine(), ReadLine());
                    throw Error("opcode INST is not used by state dicts");
                case (byte)'R': // REDUCE
                    {
                        object? arguments = Pop();
                        object? callable = Pop();
                        Push(Call(callable, arguments));
                        break;
                    }

                case 0x81: // NEWOBJ: cls.__new__(cls, *args), which only OrderedDict may use here.
                    {
                        object? arguments = Pop();
                        object? type = Pop();
                        if (type != PickleFunction.OrderedDict || arguments is not PickleTuple { Count: 0 })
                        {
                            throw Error($"NEWOBJ of {PickleValueNames.TypeName(type)} is not supported");
                        }

                        Push(new PickleDict(isOrderedDict: true));
                        break;
                    }

                case (byte)'b': // BUILD: only the attributes of an OrderedDict (torch's _metadata), which are ignored.
                    {
                        object? state = Pop();
                        if (Peek() is not PickleDict { IsOrderedDict: true })
                        {
                            throw Error($"BUILD on {PickleValueNames.TypeName(Peek())} is not supported");
                        }

                        if (state is not (PickleDict or PickleTuple { Count: 2 } or null))
                        {
                            throw Error($"BUILD with {PickleValueNames.TypeName(state)} state is not supported");
                        }

                        break;
                    }

                case (byte)'Q': // BINPERSID
                    Push(_persistentLoad(Pop()));
                    break;

                default:
                    throw Error($"opcode 0x{opcode:x2}{DescribeUnsupported(opcode)} is not supported in a state dict");
            }
        }
    }

    private int MarkBase => _marks.Count > 0 ? _marks[^1] : 0;

    private static string DescribeUnsupported(byte opcode) => opcode switch
    {
        (byte)'P' => " (PERSID)",
        (byte)'S' => " (STRING)",
        (byte)'V' => " (UNICODE)",
        (byte)'o' => " (OBJ)",
        0x82 or 0x83 or 0x84 => " (EXT)",
        0x8f => " (EMPTY_SET)",
        0x90 => " (ADDITEMS)",
        0x91 => " (FROZENSET)",
        0x92 => " (NEWOBJ_EX)",
        0x96 => " (BYTEARRAY8)",
        0x97 => " (NEXT_BUFFER)",
        0x98 => " (READONLY_BUFFER)",
        _ => string.Empty,
    };

    /// <summary>Returns the value that an allowed global's name stands for, and rejects every other name.</summary>
    private object ResolveGlobal(string module, string name)
    {
        if (module == "torch" && TorchStorageType.FromName(name) is { } storage)
        {
            return storage;
        }

        foreach (var function in PickleFunction.All)
        {
            if (function.Module == module && function.Name == name)
            {
                return function;
            }
        }

        throw new InvalidDataException(
            $"The pickle names the Python global '{module}.{name}' (at byte {_opcodePosition}), which a state dict never needs, " +
            "so reading stopped there and nothing from the file was built. Only torch._utils._rebuild_tensor, " +
            "_rebuild_tensor_v2 and _rebuild_parameter, the typed storages torch.FloatStorage, torch.DoubleStorage, … " +
            "and collections.OrderedDict are accepted. The file may be malicious, or it contains more than a state dict. " +
            "In Python, save module.state_dict() rather than the module or a training checkpoint.");
    }

    private object Call(object? callable, object? arguments)
    {
        if (arguments is not PickleTuple args)
        {
            throw Error($"REDUCE needs an argument tuple, found {PickleValueNames.TypeName(arguments)}");
        }

        if (callable == PickleFunction.OrderedDict)
        {
            if (args.Count != 0)
            {
                throw Error("collections.OrderedDict is only supported with no arguments");
            }

            return new PickleDict(isOrderedDict: true);
        }

        if (callable == PickleFunction.RebuildTensor || callable == PickleFunction.RebuildTensorV2)
        {
            return RebuildTensor((PickleFunction)callable, args);
        }

        if (callable == PickleFunction.RebuildParameter)
        {
            // _rebuild_parameter(data, requires_grad, backward_hooks): the parameter's data is the tensor.
            if (args.Count != 3 || args[0] is not TensorRef data || args[1] is not bool)
            {
                throw Error("torch._utils._rebuild_parameter needs (tensor, requires_grad, backward_hooks)");
            }

            RequireNoHooks(args[2]);
            return data;
        }

        throw Error($"{PickleValueNames.TypeName(callable)} cannot be called");
    }

    /// <summary>
    /// <c>_rebuild_tensor(storage, offset, size, stride)</c> and
    /// <c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])</c>.
    /// </summary>
    private TensorRef RebuildTensor(PickleFunction function, PickleTuple args)
    {
        bool isV2 = function == PickleFunction.RebuildTensorV2;
        bool validCount = isV2 ? args.Count is 6 or 7 : args.Count == 4;
        if (!validCount || args[0] is not StorageRef storage || args[1] is not long offset
            || args[2] is not PickleTuple sizeTuple || args[3] is not PickleTuple strideTuple)
        {
            throw Error($"{function} needs (storage, offset, size, stride{(isV2 ? ", requires_grad, backward_hooks" : string.Empty)})");
        }

        if (isV2)
        {
            if (args[4] is not bool)
            {
                throw Error($"{function}: requires_grad must be a bool");
            }

            RequireNoHooks(args[5]);
            if (args.Count == 7 && args[6] is not (null or PickleDict))
            {
                throw Error($"{function}: the metadata must be a dict");
            }
        }

        long[] size = ToDimensions(sizeTuple, "size");
        long[] stride = ToDimensions(strideTuple, "stride");
        if (size.Length != stride.Length)
        {
            throw Error($"{function}: {size.Length} sizes but {stride.Length} strides");
        }

        CheckWithinStorage(storage, offset, size, stride);
        return new TensorRef(storage, offset, size, stride);
    }

    /// <summary>Rejects views that would reach outside their storage, before any memory is touched.</summary>
    private void CheckWithinStorage(StorageRef storage, long offset, long[] size, long[] stride)
    {
        if (offset < 0 || offset > storage.ElementCount)
        {
            throw Error($"storage offset {offset} lies outside storage '{storage.Key}' of {storage.ElementCount} elements");
        }

        if (size.Contains(0))
        {
            return;
        }

        try
        {
            long last = offset;
            for (int i = 0; i < size.Length; i++)
            {
                last = checked(last + ((size[i] - 1) * stride[i]));
            }

            if (last >= storage.ElementCount)
            {
                throw Error($"a tensor of size [{string.Join(", ", size)}] and stride [{string.Join(", ", stride)}] at offset {offset} " +
                    $"reaches element {last} of storage '{storage.Key}', which has {storage.ElementCount}");
            }
        }
        catch (OverflowException)
        {
            throw Error($"the tensor's size [{string.Join(", ", size)}] and stride [{string.Join(", ", stride)}] overflow");
        }
    }

    private long[] ToDimensions(PickleTuple tuple, string field)
    {
        if (tuple.Count > MaxDimensions)
        {
            throw Error($"a tensor {field} with {tuple.Count} dimensions is not supported");
        }

        var values = new long[tuple.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (tuple[i] is not long value || value < 0)
            {
                throw Error($"a tensor {field} must contain non-negative integers, found {PickleValueNames.TypeName(tuple[i])} {tuple[i]}");
            }

            values[i] = value;
        }

        return values;
    }

    private void RequireNoHooks(object? hooks)
    {
        if (hooks is not (null or PickleDict { Items.Count: 0 }))
        {
            throw Error("tensors with backward hooks are not supported");
        }
    }

    private void SetItems(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0)
        {
            throw Error("SETITEMS needs key/value pairs");
        }

        for (int i = 0; i < items.Count; i += 2)
        {
            object key = items[i] switch
            {
                string or long or bool or double or BigInteger => items[i]!,
                var other => throw Error($"dict keys of type {PickleValueNames.TypeName(other)} are not supported"),
            };
            dict.Items[key] = items[i + 1];
        }
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count <= MarkBase)
        {
            throw Error("the stack is empty");
        }

        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek() =>
        _stack.Count > MarkBase ? _stack[^1] : throw Error("the stack is empty");

    private T PeekAs<T>(string opcode)
        where T : class =>
        Peek() as T ?? throw Error($"{opcode} on {PickleValueNames.TypeName(Peek())}");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Error("no MARK to pop to");
        }

        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private object? Recall(long index) =>
        _memo.TryGetValue(index, out object? value) ? value : throw Error($"memo entry {index} is not set");

    private byte ReadByte()
    {
        if (_position >= _end)
        {
            throw Truncated();
        }

        return _data[_position++];
    }

    private ReadOnlySpan<byte> ReadSpan(int count)
    {
        if (count > _end - _position)
        {
            throw Truncated();
        }

        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    /// <summary>Reads a little-endian length of 4 or 8 bytes that must fit in what is left of the pickle.</summary>
    private int ReadLength(int width)
    {
        var span = ReadSpan(width);
        long length = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(span) : BinaryPrimitives.ReadInt64LittleEndian(span);
        if (length < 0 || length > _end - _position)
        {
            throw Truncated();
        }

        return (int)length;
    }

    private string ReadLine()
    {
        int newline = Array.IndexOf(_data, (byte)'\n', _position, _end - _position);
        if (newline < 0)
        {
            throw Truncated();
        }

        string line = Encoding.ASCII.GetString(_data, _position, newline - _position);
        _position = newline + 1;
        return line;
    }

    private string DecodeString(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error("a string is not valid UTF-8");
        }
    }

    private static object DecodeLong(ReadOnlySpan<byte> bytes)
    {
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private object ParseTextInt(string text) => text switch
    {
        "00" => false,
        "01" => true,
        _ => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            ? value
            : ParseTextLong(text),
    };

    private object ParseTextLong(string text)
    {
        string digits = text.EndsWith('L') ? text[..^1] : text;
        if (!BigInteger.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw Error($"'{text}' is not an integer");
        }

        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private double ParseTextFloat(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw Error($"'{text}' is not a float");

    private long ParseMemoIndex(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long index)
            ? index
            : throw Error($"'{text}' is not a memo index");

    private InvalidDataException Truncated() =>
        new($"The pickle ends early (opcode at byte {_opcodePosition}): the file is truncated or corrupt.");

    private InvalidDataException Error(string problem) =>
        new($"Unsupported or malformed pickle at byte {_opcodePosition}: {problem}.");
}
