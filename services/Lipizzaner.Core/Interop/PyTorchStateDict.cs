using System.Globalization;
using System.IO.Compression;
using Lipizzaner.Core.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Interop;

/// <summary>
/// Reads and writes PyTorch state-dict files (<c>torch.save(module.state_dict(), path)</c>) without Python.
/// Reads both formats of <c>torch.save</c>: the zip archive of PyTorch 1.6 and later and the legacy
/// sequence of pickles before it. Writes the zip format, which every PyTorch since 1.6 loads.
/// <para>
/// The pickles inside are read by a restricted unpickler that accepts only the tensor-rebuild
/// functions, the typed storage classes and <c>collections.OrderedDict</c>. A file naming any other
/// Python global is rejected with an <see cref="InvalidDataException"/> before any tensor is made.
/// Tensors keep the element type they were saved with and are always read to the CPU, whatever
/// device they were saved from. Key layouts, dtypes and the security model: <c>docs/interop.md</c>.
/// </para>
/// </summary>
public static class PyTorchStateDict
{
    /// <summary>
    /// Reads the state dict in <paramref name="path"/>, entries in the file's order. The tensors are CPU
    /// tensors with the saved dtype, size, stride and storage offset. Entries that shared a storage in the
    /// file share it here too. They belong to no dispose scope: the caller owns and disposes them.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a PyTorch state dict, is truncated or corrupt,
    /// or names a Python global outside the allow-list. The message starts with the path.</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        try
        {
            return Read(stream);
        }
        catch (InvalidDataException error)
        {
            throw new InvalidDataException($"{path}: {error.Message}", error);
        }
    }

    /// <summary>Reads a state dict from <paramref name="stream"/>, which contains nothing else (see <see cref="Read(string)"/>).</summary>
    /// <exception cref="InvalidDataException">The content is not a PyTorch state dict, is truncated or corrupt,
    /// or names a Python global outside the allow-list.</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Reading PyTorch files needs a little-endian machine.");
        }

        if (!stream.CanSeek)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            return Read(copy);
        }

        long start = stream.Position;
        Span<byte> head = stackalloc byte[4];
        int headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        ParsedStateDict parsed;
        if (ZipFormat.HasSignature(head[..headLength]))
        {
            parsed = ZipFormat.Read(stream);
        }
        else if (headLength > 0 && head[0] == 0x80)
        {
            parsed = LegacyFormat.Read(ReadToEnd(stream));
        }
        else
        {
            throw new InvalidDataException(
                headLength == 0
                    ? "The file is empty."
                    : "Not a PyTorch file: it is neither a torch.save zip archive nor a legacy torch.save pickle.");
        }

        return Materialise(parsed);
    }

    /// <summary>
    /// Loads the state dict in <paramref name="path"/> into <paramref name="module"/>. Keys and shapes must
    /// match the module's <c>state_dict()</c> exactly. Values are copied into the module's tensors, converted to
    /// their dtype and device like <c>load_state_dict</c> does. Nothing is copied unless everything matches.
    /// </summary>
    /// <param name="module">The network to load into. Its tensors are overwritten in place.</param>
    /// <param name="path">A file written by <c>torch.save</c> in either format, or by <see cref="Save"/>.</param>
    /// <param name="mapKey">Optional: maps a key of the file to the module's key, or to <see langword="null"/> to skip
    /// that entry. Without it keys must be equal.</param>
    /// <exception cref="InvalidDataException">The file cannot be read (see <see cref="Read(string)"/>), or its keys or
    /// shapes do not fit the module: the message lists the missing, unexpected and mis-shaped keys.</exception>
    public static void LoadInto(nn.Module module, string path, Func<string, string?>? mapKey = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var entries = Read(path);
        try
        {
            Apply(module, entries, mapKey, path);
        }
        finally
        {
            DisposeAll(entries);
        }
    }

    /// <summary>Loads a state dict from <paramref name="stream"/> into <paramref name="module"/> (see <see cref="LoadInto(nn.Module, string, Func{string, string?}?)"/>).</summary>
    public static void LoadInto(nn.Module module, Stream stream, Func<string, string?>? mapKey = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var entries = Read(stream);
        try
        {
            Apply(module, entries, mapKey, "The state dict");
        }
        finally
        {
            DisposeAll(entries);
        }
    }

    /// <summary>Loads entries that are already in memory into <paramref name="module"/>, with the same strict checks.</summary>
    public static void LoadInto(nn.Module module, IEnumerable<(string Name, Tensor Tensor)> entries, Func<string, string?>? mapKey = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(entries);
        Apply(module, [.. entries], mapKey, "The state dict");
    }

    /// <summary>
    /// Writes <paramref name="entries"/> to <paramref name="path"/> in the zip format that <c>torch.load</c> reads,
    /// atomically: a crash leaves the old file or the complete new one. Each tensor is written as its own
    /// contiguous CPU storage with its dtype, and names are written as given.
    /// </summary>
    /// <exception cref="ArgumentException">A name is repeated or empty, or a tensor's dtype has no PyTorch storage type.</exception>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> entries)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        Validate(list);
        AtomicFile.Write(path, stream => WriteArchive(stream, list));
    }

    /// <summary>Writes <paramref name="entries"/> to <paramref name="stream"/> (see <see cref="Write(string, IEnumerable{ValueTuple{string, Tensor}})"/>).</summary>
    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> entries)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        Validate(list);
        WriteArchive(stream, list);
    }

    /// <summary>
    /// Writes <paramref name="module"/>'s <c>state_dict()</c> to <paramref name="path"/> (see
    /// <see cref="Write(string, IEnumerable{ValueTuple{string, Tensor}})"/>). Our networks use PyTorch's key
    /// names, so in Python <c>module.load_state_dict(torch.load(path))</c> loads the file into the same architecture.
    /// Entries are written in PyTorch's order, each layer's buffers right after its parameters, whereas TorchSharp lists
    /// all buffers after all parameters.
    /// </summary>
    public static void Save(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        Write(path, InPyTorchOrder(module.state_dict()));
    }

    /// <summary>Groups the entries by owning module (the key without its last part), modules in order of first appearance.</summary>
    private static List<(string Name, Tensor Tensor)> InPyTorchOrder(Dictionary<string, Tensor> stateDict)
    {
        var modules = new List<string>();
        var byModule = new Dictionary<string, List<(string Name, Tensor Tensor)>>(StringComparer.Ordinal);
        foreach (var (name, tensor) in stateDict)
        {
            int dot = name.LastIndexOf('.');
            string owner = dot < 0 ? string.Empty : name[..dot];
            if (!byModule.TryGetValue(owner, out var entries))
            {
                entries = [];
                byModule.Add(owner, entries);
                modules.Add(owner);
            }

            entries.Add((name, tensor));
        }

        return [.. modules.SelectMany(owner => byModule[owner])];
    }

    private static List<(string Name, Tensor Tensor)> Materialise(ParsedStateDict parsed)
    {
        using var scope = torch.NewDisposeScope();
        var storages = new Dictionary<StorageRef, Tensor>(parsed.Storages.Count);
        foreach (var (storage, bytes) in parsed.Storages)
        {
            var tensor = torch.empty(storage.ElementCount, storage.Type.DType);
            if (bytes.Length > 0)
            {
                tensor.bytes = bytes.Span;
            }

            storages.Add(storage, tensor);
        }

        var result = new List<(string Name, Tensor Tensor)>(parsed.Entries.Count);
        foreach (var (name, tensor) in parsed.Entries)
        {
            result.Add((name, storages[tensor.Storage].as_strided([.. tensor.Size], [.. tensor.Stride], tensor.Offset)));
        }

        foreach (var (_, tensor) in result)
        {
            tensor.DetachFromDisposeScope();
        }

        return result;
    }

    private static void Apply(nn.Module module, IReadOnlyList<(string Name, Tensor Tensor)> entries, Func<string, string?>? mapKey, string source)
    {
        var target = module.state_dict();
        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        foreach (var (name, tensor) in entries)
        {
            string? key = mapKey is null ? name : mapKey(name);
            if (key is not null && !loaded.TryAdd(key, tensor))
            {
                duplicates.Add(key);
            }
        }

        var missing = target.Keys.Where(key => !loaded.ContainsKey(key)).ToList();
        var unexpected = loaded.Keys.Where(key => !target.ContainsKey(key)).ToList();
        var misShaped = loaded
            .Where(pair => target.TryGetValue(pair.Key, out var destination) && !destination.shape.SequenceEqual(pair.Value.shape))
            .Select(pair => $"{pair.Key} is {Shape(pair.Value)} in the file but {Shape(target[pair.Key])} in the network")
            .ToList();
        if (missing.Count + unexpected.Count + misShaped.Count + duplicates.Count > 0)
        {
            var lines = new List<string> { $"{source} does not fit this {module.GetType().Name}:" };
            if (missing.Count > 0)
            {
                lines.Add($"missing keys (in the network, not in the file): {string.Join(", ", missing)}");
            }

            if (unexpected.Count > 0)
            {
                lines.Add($"unexpected keys (in the file, not in the network): {string.Join(", ", unexpected)}");
            }

            if (misShaped.Count > 0)
            {
                lines.Add($"mis-shaped keys: {string.Join("; ", misShaped)}");
            }

            if (duplicates.Count > 0)
            {
                lines.Add($"keys given more than once: {string.Join(", ", duplicates.Distinct())}");
            }

            lines.Add("Load a file saved from the same architecture (network kind and sizes), or pass a key mapping that " +
                "renames the file's keys to the network's and skips the extra ones.");
            throw new InvalidDataException(string.Join(Environment.NewLine, lines));
        }

        using var noGrad = torch.no_grad();
        foreach (var (key, destination) in target)
        {
            destination.copy_(loaded[key]);
        }
    }

    private static void Validate(List<(string Name, Tensor Tensor)> entries)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in entries)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(entries));
            ArgumentNullException.ThrowIfNull(tensor, nameof(entries));
            if (!names.Add(name))
            {
                throw new ArgumentException($"The name '{name}' appears more than once, but state-dict keys must be unique.", nameof(entries));
            }

            _ = TorchStorageType.FromDType(tensor.dtype);
        }
    }

    private static void WriteArchive(Stream stream, List<(string Name, Tensor Tensor)> entries)
    {
        using var scope = torch.NewDisposeScope();
        var contiguous = new List<Tensor>(entries.Count);
        var described = new List<PickleWriter.Entry>(entries.Count);
        foreach (var (name, tensor) in entries)
        {
            var data = tensor.detach().cpu().contiguous();
            contiguous.Add(data);
            described.Add(new PickleWriter.Entry(
                name,
                (described.Count).ToString(CultureInfo.InvariantCulture),
                TorchStorageType.FromDType(data.dtype),
                data.numel(),
                data.shape,
                data.stride()));
        }

        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        ZipFormat.WriteEntry(archive, "data.pkl", PickleWriter.StateDict(described));
        ZipFormat.WriteEntry(archive, "byteorder", "little"u8);
        for (int i = 0; i < contiguous.Count; i++)
        {
            ZipFormat.WriteEntry(archive, $"data/{described[i].StorageKey}", contiguous[i].numel() == 0 ? [] : contiguous[i].bytes);
        }

        ZipFormat.WriteEntry(archive, "version", "3\n"u8);
    }

    private static byte[] ReadToEnd(Stream stream)
    {
        long length = stream.Length - stream.Position;
        if (length > Array.MaxLength)
        {
            throw new InvalidDataException("Legacy files larger than 2 GiB are not supported. Save the file again in the zip format.");
        }

        var content = new byte[length];
        stream.ReadExactly(content);
        return content;
    }

    private static string Shape(Tensor tensor) => $"[{string.Join(", ", tensor.shape)}]";

    private static void DisposeAll(IReadOnlyList<(string Name, Tensor Tensor)> entries)
    {
        foreach (var (_, tensor) in entries)
        {
            tensor.Dispose();
        }
    }
}
