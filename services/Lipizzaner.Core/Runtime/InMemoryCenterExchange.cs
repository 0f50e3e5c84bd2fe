using System.Collections.Concurrent;
using Lipizzaner.Core.IO;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// In-process center exchange: the newest snapshot per cell. A snapshot is immutable once
/// published, so readers on other threads see either the old or the new one, never a mix.
/// </summary>
public sealed class InMemoryCenterExchange : ICenterExchange
{
    private readonly ConcurrentDictionary<int, CenterSnapshot> _latest = new();

    public ValueTask PublishAsync(CenterSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _latest.AddOrUpdate(
            snapshot.CellIndex,
            snapshot,
            (_, current) => snapshot.Generation >= current.Generation ? snapshot : current);
        return ValueTask.CompletedTask;
    }

    public ValueTask<CenterSnapshot?> TryGetLatestAsync(int cellIndex, CancellationToken cancellationToken)
    {
        if (!_latest.TryGetValue(cellIndex, out var snapshot))
        {
            return ValueTask.FromResult<CenterSnapshot?>(null);
        }

        if (AtomicFile.Sha256Hex(snapshot.Payload) != snapshot.Sha256)
        {
            throw new InvalidDataException($"Center of cell {cellIndex} (generation {snapshot.Generation}) fails its checksum.");
        }

        return ValueTask.FromResult<CenterSnapshot?>(snapshot);
    }
}
