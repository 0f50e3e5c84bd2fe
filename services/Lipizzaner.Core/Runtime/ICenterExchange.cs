namespace Lipizzaner.Core.Runtime;

/// <summary>
/// A cell's published center: the serialised generator and discriminator (see
/// <see cref="CenterCodec"/>), the generation after which it was published, and the SHA-256 of
/// the payload, which readers verify.
/// </summary>
public sealed record CenterSnapshot(int CellIndex, int Generation, byte[] Payload, string Sha256);

/// <summary>
/// Where cells publish their centers and read their neighbours'. Reads never wait: they return
/// the newest snapshot available, or null when the cell has published nothing yet. The embedded
/// runner uses <see cref="InMemoryCenterExchange"/>; the distributed runtime uses Redis.
/// </summary>
public interface ICenterExchange
{
    ValueTask PublishAsync(CenterSnapshot snapshot, CancellationToken cancellationToken);

    ValueTask<CenterSnapshot?> TryGetLatestAsync(int cellIndex, CancellationToken cancellationToken);
}
