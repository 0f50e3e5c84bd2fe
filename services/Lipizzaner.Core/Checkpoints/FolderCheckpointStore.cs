using System.Globalization;
using System.Security.Cryptography;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;

namespace Lipizzaner.Core.Checkpoints;

/// <summary>
/// Checkpoints as files: <c>{root}/cell-{x}-{y}/gen-{generation:D6}.ckpt</c>, each the content
/// followed by its SHA-256, written atomically.
/// </summary>
public sealed class FolderCheckpointStore(string root, GridTopology topology) : ICheckpointStore
{
    public string Root { get; } = root;

    public Task WriteAsync(int cellIndex, int generation, byte[] content, CancellationToken cancellationToken)
    {
        byte[] file = [.. content, .. SHA256.HashData(content)];
        AtomicFile.WriteAllBytes(PathOf(cellIndex, generation), file);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<int>> ListAsync(int cellIndex, CancellationToken cancellationToken)
    {
        string folder = CellFolder(cellIndex);
        IReadOnlyList<int> generations = !Directory.Exists(folder)
            ? []
            : Directory.EnumerateFiles(folder, "gen-*.ckpt")
                .Select(path => Path.GetFileNameWithoutExtension(path)["gen-".Length..])
                .Select(text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : -1)
                .Where(value => value >= 0)
                .Order()
                .ToList();
        return Task.FromResult(generations);
    }

    public async Task<byte[]> ReadAsync(int cellIndex, int generation, CancellationToken cancellationToken)
    {
        string path = PathOf(cellIndex, generation);
        byte[] file = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return CheckpointFile.Verify(file, path);
    }

    private string CellFolder(int cellIndex) => Path.Combine(Root, $"cell-{topology.CellName(cellIndex)}");

    private string PathOf(int cellIndex, int generation) =>
        Path.Combine(CellFolder(cellIndex), string.Create(CultureInfo.InvariantCulture, $"gen-{generation:D6}.ckpt"));
}

/// <summary>The checkpoint file framing: content followed by its SHA-256.</summary>
public static class CheckpointFile
{
    private const int HashLength = 32;

    /// <summary>Reads a checkpoint file and returns its content after verifying the checksum.</summary>
    public static byte[] ReadVerified(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Checkpoint {path} not found; pass a file such as checkpoints/cell-0-0/gen-000010.ckpt of a run folder.", path);
        }

        return Verify(File.ReadAllBytes(path), path);
    }

    /// <summary>Returns the content of <paramref name="file"/>; throws <see cref="InvalidDataException"/> naming <paramref name="source"/> when the checksum fails.</summary>
    public static byte[] Verify(byte[] file, string source)
    {
        if (file.Length < HashLength)
        {
            throw new InvalidDataException($"Checkpoint {source} is truncated ({file.Length} bytes).");
        }

        var content = file.AsSpan(0, file.Length - HashLength);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(file.AsSpan(file.Length - HashLength)))
        {
            throw new InvalidDataException($"Checkpoint {source} fails its checksum: it is corrupt or truncated.");
        }

        return content.ToArray();
    }
}
