using System.Numerics;

namespace Lipizzaner.Core.Interop;

/// <summary>A Python tuple read from a pickle.</summary>
internal sealed class PickleTuple(IReadOnlyList<object?> items)
{
    public static PickleTuple Empty { get; } = new([]);

    public IReadOnlyList<object?> Items { get; } = items;

    public int Count => Items.Count;

    public object? this[int index] => Items[index];
}

/// <summary>A Python <c>dict</c> or <c>collections.OrderedDict</c> read from a pickle, in insertion order.</summary>
internal sealed class PickleDict(bool isOrderedDict)
{
    public bool IsOrderedDict { get; } = isOrderedDict;

    public OrderedDictionary<object, object?> Items { get; } = [];
}

/// <summary>
/// One of the few Python functions a state dict may call while it is unpickled. Anything else
/// a pickle names is rejected, so these are the only callables the reader ever meets.
/// </summary>
internal sealed class PickleFunction
{
    public static readonly PickleFunction OrderedDict = new("collections", "OrderedDict");
    public static readonly PickleFunction RebuildTensor = new("torch._utils", "_rebuild_tensor");
    public static readonly PickleFunction RebuildTensorV2 = new("torch._utils", "_rebuild_tensor_v2");
    public static readonly PickleFunction RebuildParameter = new("torch._utils", "_rebuild_parameter");

    private PickleFunction(string module, string name)
    {
        Module = module;
        Name = name;
    }

    public string Module { get; }

    public string Name { get; }

    public static IReadOnlyList<PickleFunction> All { get; } = [OrderedDict, RebuildTensor, RebuildTensorV2, RebuildParameter];

    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A storage that a pickle refers to by persistent id. Its bytes are stored outside the pickle.</summary>
internal sealed class StorageRef(string key, TorchStorageType type, string location, long elementCount)
{
    /// <summary>The name of the storage's data: a file under <c>data/</c> in a zip archive, a listed key in a legacy file.</summary>
    public string Key { get; } = key;

    public TorchStorageType Type { get; } = type;

    /// <summary>The device the storage was saved from (<c>cpu</c>, <c>cuda:0</c>, …). It is always read to the CPU.</summary>
    public string Location { get; } = location;

    public long ElementCount { get; } = elementCount;

    public long ByteCount => checked(ElementCount * Type.ElementSize);
}

/// <summary>A tensor as a pickle describes it: a view of a storage, with offset, sizes and strides in elements.</summary>
internal sealed class TensorRef(StorageRef storage, long offset, long[] size, long[] stride)
{
    public StorageRef Storage { get; } = storage;

    public long Offset { get; } = offset;

    public IReadOnlyList<long> Size { get; } = size;

    public IReadOnlyList<long> Stride { get; } = stride;
}

/// <summary>Python-style names of read values, for error messages.</summary>
internal static class PickleValueNames
{
    public static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PickleTuple => "tuple",
        List<object?> => "list",
        PickleDict { IsOrderedDict: true } => "collections.OrderedDict",
        PickleDict => "dict",
        PickleFunction function => function.ToString(),
        TorchStorageType storage => $"torch.{storage.Name}",
        StorageRef => "storage",
        TensorRef => "tensor",
        _ => value.GetType().Name,
    };
}
