namespace Lipizzaner.Core.Checkpoints;

/// <summary>
/// Stores cell checkpoints. Writes are atomic and every checkpoint carries a checksum; a reader
/// that finds the newest checkpoint corrupt falls back to the previous one. The embedded runner
/// uses <see cref="FolderCheckpointStore"/>; the distributed runtime uses S3-compatible storage.
/// </summary>
public interface ICheckpointStore
{
    Task WriteAsync(int cellIndex, int generation, byte[] content, CancellationToken cancellationToken);

    /// <summary>Returns the generations with a checkpoint of the cell, ascending.</summary>
    Task<IReadOnlyList<int>> ListAsync(int cellIndex, CancellationToken cancellationToken);

    /// <summary>Returns the checkpoint's content after verifying its checksum; throws <see cref="InvalidDataException"/> when it is corrupt.</summary>
    Task<byte[]> ReadAsync(int cellIndex, int generation, CancellationToken cancellationToken);
}
