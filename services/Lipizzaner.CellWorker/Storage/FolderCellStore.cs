using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;

namespace Lipizzaner.CellWorker.Storage;

/// <summary>
/// Checkpoints and final mixtures in a folder that every worker of the run can reach, such as a
/// cluster's shared parallel file system, for sites without an S3 server. Checkpoints are
/// <c>{root}/{run}/cell-{x}-{y}/gen-{generation:D6}.ckpt</c> (the framing of
/// <see cref="FolderCheckpointStore"/>: content, then its SHA-256, written atomically); a cell's
/// final mixture is <c>{root}/{run}/cell-{x}-{y}/mixture/</c>, swapped in whole. Only the worker that
/// holds a cell's lease writes under that cell's folder, so no file has two writers.
/// </summary>
public sealed class FolderCellStore : ICheckpointStore, ICellOutputStore
{
    private readonly FolderCheckpointStore _checkpoints;
    private readonly GridTopology _topology;

    public FolderCellStore(string root, string runId, GridTopology topology)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentNullException.ThrowIfNull(topology);
        RunFolder = Path.Combine(Path.GetFullPath(root), RedisKeys.ValidateRunId(runId));
        _topology = topology;
        _checkpoints = new FolderCheckpointStore(RunFolder, topology);
    }

    /// <summary>The run's folder under the root.</summary>
    public string RunFolder { get; }

    public Task WriteAsync(int cellIndex, int generation, byte[] content, CancellationToken cancellationToken) =>
        _checkpoints.WriteAsync(cellIndex, generation, content, cancellationToken);

    public Task<IReadOnlyList<int>> ListAsync(int cellIndex, CancellationToken cancellationToken) =>
        _checkpoints.ListAsync(cellIndex, cancellationToken);

    public Task<byte[]> ReadAsync(int cellIndex, int generation, CancellationToken cancellationToken) =>
        _checkpoints.ReadAsync(cellIndex, generation, cancellationToken);

    /// <summary>Copies the mixture folder's files into a staging folder beside the target, then swaps it in.</summary>
    public Task<string> WriteMixtureAsync(int cellIndex, string mixtureFolder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mixtureFolder);
        string target = Path.Combine(RunFolder, $"cell-{_topology.CellName(cellIndex)}", "mixture");
        string staging = $"{target}.new-{Guid.NewGuid():N}";
        foreach (string file in Directory.GetFiles(mixtureFolder))
        {
            cancellationToken.ThrowIfCancellationRequested();
            AtomicFile.WriteAllBytes(Path.Combine(staging, Path.GetFileName(file)), File.ReadAllBytes(file));
        }

        string? previous = null;
        if (Directory.Exists(target))
        {
            previous = $"{target}.old-{Guid.NewGuid():N}";
            Directory.Move(target, previous);
        }

        Directory.Move(staging, target);
        if (previous is not null)
        {
            Directory.Delete(previous, recursive: true);
        }

        return Task.FromResult(target + Path.DirectorySeparatorChar);
    }
}
