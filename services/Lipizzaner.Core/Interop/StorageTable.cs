namespace Lipizzaner.Core.Interop;

/// <summary>
/// The storages a state-dict pickle refers to by persistent id, one <see cref="StorageRef"/> per key,
/// so that tensors which share a storage in the file share it when read.
/// </summary>
internal sealed class StorageTable(StorageIdLayout layout)
{
    private readonly Dictionary<string, StorageRef> _byKey = new(StringComparer.Ordinal);
    private readonly List<StorageRef> _inOrder = [];

    /// <summary>The storages in the order the pickle first referred to them.</summary>
    public IReadOnlyList<StorageRef> Storages => _inOrder;

    public bool TryGet(string key, out StorageRef storage) => _byKey.TryGetValue(key, out storage!);

    /// <summary>
    /// Resolves a persistent id: <c>('storage', torch.FloatStorage, key, location, element_count)</c> in a
    /// zip archive, and the same with a sixth item in a legacy file. That item is <c>None</c> unless the
    /// storage is a view of another, which early PyTorch versions wrote and which is rejected.
    /// </summary>
    public object Load(object? pid)
    {
        int expected = layout == StorageIdLayout.Legacy ? 6 : 5;
        if (pid is not PickleTuple id || id.Count != expected || id[0] is not "storage")
        {
            throw new InvalidDataException(
                $"Unsupported persistent id {Describe(pid)}: expected ('storage', storage type, key, location, size{(layout == StorageIdLayout.Legacy ? ", None" : string.Empty)}).");
        }

        if (id[1] is not TorchStorageType type || id[2] is not string key || id[3] is not string location
            || id[4] is not long count || count < 0 || count > long.MaxValue / type.ElementSize)
        {
            throw new InvalidDataException($"Malformed storage id {Describe(pid)}.");
        }

        if (layout == StorageIdLayout.Legacy && id[5] is not null)
        {
            throw new InvalidDataException(
                $"Storage '{key}' is a view of another storage, which only early PyTorch versions wrote. Load the file in " +
                "Python and save it again with a current torch.save.");
        }

        if (_byKey.TryGetValue(key, out var known))
        {
            if (known.Type != type || known.ElementCount != count)
            {
                throw new InvalidDataException(
                    $"Storage '{key}' is described twice, as {known.ElementCount} × {known.Type.Name} and as {count} × {type.Name}.");
            }

            return known;
        }

        var storage = new StorageRef(key, type, location, count);
        _byKey.Add(key, storage);
        _inOrder.Add(storage);
        return storage;
    }

    /// <summary>Returns the entries of a state dict: an (ordered) dict of names to tensors.</summary>
    public static List<(string Name, TensorRef Tensor)> Entries(object? root)
    {
        if (root is not PickleDict dict)
        {
            throw new InvalidDataException(
                $"The file contains a value of type {PickleValueNames.TypeName(root)}, not a state dict (a dict of names to tensors).");
        }

        var entries = new List<(string Name, TensorRef Tensor)>(dict.Items.Count);
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name)
            {
                throw new InvalidDataException($"The state dict has a key of type {PickleValueNames.TypeName(key)}, but names must be strings.");
            }

            if (value is not TensorRef tensor)
            {
                throw new InvalidDataException(
                    $"Entry '{name}' is of type {PickleValueNames.TypeName(value)}, not a tensor, so the file contains more than a state dict. " +
                    "In Python, save only the module's state_dict().");
            }

            entries.Add((name, tensor));
        }

        return entries;
    }

    private static string Describe(object? pid) =>
        pid is PickleTuple tuple
            ? $"({string.Join(", ", tuple.Items.Select(item => item is string text ? $"'{text}'" : PickleValueNames.TypeName(item)))})"
            : PickleValueNames.TypeName(pid);
}

/// <summary>The shape of a storage's persistent id, which differs between the two file formats.</summary>
internal enum StorageIdLayout
{
    Zip,
    Legacy,
}
