namespace Lipizzaner.Core.Coordination;

public enum CellLeaseState
{
    /// <summary>No worker holds the cell: it was never leased, or its lease expired.</summary>
    Free,

    /// <summary>A worker holds an unexpired lease.</summary>
    Leased,

    /// <summary>The cell finished all its generations.</summary>
    Completed,
}

/// <summary>A worker's claim on one cell until <see cref="ExpiresAt"/>; <see cref="Epoch"/> grows with every new lease of the cell.</summary>
public sealed record CellLease(int CellIndex, string WorkerId, long Epoch, DateTimeOffset ExpiresAt);

/// <summary>
/// The saved state of one cell of a <see cref="LeaseTable"/>, for storing the table and restoring it
/// after a restart. <see cref="State"/> is the stored state: a lease past <see cref="ExpiresAt"/> is still
/// <see cref="CellLeaseState.Leased"/> here.
/// </summary>
public sealed record CellLeaseRecord(CellLeaseState State, string? WorkerId, long Epoch, DateTimeOffset ExpiresAt, int Generation);

/// <summary>The coordinator's record of one cell: lease state, holder and progress.</summary>
public sealed record CellStatus(int CellIndex, CellLeaseState State, string? WorkerId, int Generation, bool Expired);

/// <summary>
/// Leases of the grid's cells to workers. A lease lasts <c>leaseDuration</c> unless its worker
/// renews it by heartbeat; an expired lease frees the cell for another worker, which resumes it from
/// its newest checkpoint. Epochs fence stale workers: a renewal, progress report or completion that
/// carries an old epoch is rejected, so a worker that lost its lease cannot overwrite its successor.
/// Thread-safe; every clock reading comes from the given <see cref="TimeProvider"/>.
/// </summary>
public sealed class LeaseTable
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Entry[] _cells;

    public LeaseTable(int cellCount, TimeSpan leaseDuration, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cellCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(leaseDuration, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        LeaseDuration = leaseDuration;
        _time = time;
        _cells = Enumerable.Range(0, cellCount).Select(_ => new Entry()).ToArray();
    }

    /// <summary>
    /// Rebuilds a table from <see cref="Export"/>'s records. Expiry times are absolute, so a lease
    /// that was current when the table was saved stays current until its holder stops renewing it.
    /// </summary>
    public static LeaseTable Restore(IReadOnlyList<CellLeaseRecord> cells, TimeSpan leaseDuration, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var table = new LeaseTable(cells.Count, leaseDuration, time);
        for (int index = 0; index < cells.Count; index++)
        {
            var record = cells[index];
            if (record.Epoch < 0 || record.Generation < 0 || (record.State != CellLeaseState.Free && record.WorkerId is null))
            {
                throw new ArgumentException($"Cell {index}'s record is inconsistent: {record}.", nameof(cells));
            }

            var entry = table._cells[index];
            entry.State = record.State;
            entry.WorkerId = record.WorkerId;
            entry.Epoch = record.Epoch;
            entry.ExpiresAt = record.ExpiresAt;
            entry.Generation = record.Generation;
            // The record does not say whether the holder received the lease, so assume it did.
            entry.Confirmed = true;
        }

        return table;
    }

    public TimeSpan LeaseDuration { get; }

    public int CellCount => _cells.Length;

    /// <summary>
    /// Leases a free cell to <paramref name="workerId"/>: free cells first in index order, then cells
    /// whose lease expired. Returns null when every cell is leased or completed.
    /// </summary>
    public CellLease? TryAcquire(string workerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            // Free cells first (never leased, or released), then cells whose lease expired.
            int cell = Array.FindIndex(_cells, entry => entry.State == CellLeaseState.Free);
            if (cell < 0)
            {
                cell = Array.FindIndex(_cells, entry => IsExpired(entry, now));
            }

            if (cell < 0)
            {
                return null;
            }

            var entry = _cells[cell];
            entry.State = CellLeaseState.Leased;
            entry.WorkerId = workerId;
            entry.Epoch++;
            entry.ExpiresAt = now + LeaseDuration;
            entry.Confirmed = false;
            return new CellLease(cell, workerId, entry.Epoch, entry.ExpiresAt);
        }
    }

    /// <summary>
    /// Renews and returns a current lease of <paramref name="workerId"/> that is not among
    /// <paramref name="receivedLeases"/> (cell and epoch) and that the worker has neither renewed nor
    /// reported on, or returns null when there is none. Such a lease was granted by a request whose
    /// response never reached the worker (a timeout, then a retry), so granting another cell would leave
    /// this one idle until it expires.
    /// </summary>
    public CellLease? ReclaimUnconfirmed(string workerId, IReadOnlySet<(int Cell, long Epoch)> receivedLeases)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(receivedLeases);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            for (int cell = 0; cell < _cells.Length; cell++)
            {
                var entry = _cells[cell];
                bool unconfirmed = entry.State == CellLeaseState.Leased && !entry.Confirmed && entry.WorkerId == workerId;
                if (unconfirmed && !IsExpired(entry, now) && !receivedLeases.Contains((cell, entry.Epoch)))
                {
                    entry.ExpiresAt = now + LeaseDuration;
                    return new CellLease(cell, workerId, entry.Epoch, entry.ExpiresAt);
                }
            }

            return null;
        }
    }

    /// <summary>Extends the lease by <see cref="LeaseDuration"/>; returns null when the worker no longer holds it.</summary>
    public CellLease? Renew(CellLease lease)
    {
        lock (_gate)
        {
            var entry = Holding(lease);
            if (entry is null)
            {
                return null;
            }

            entry.ExpiresAt = _time.GetUtcNow() + LeaseDuration;
            entry.Confirmed = true;
            return lease with { ExpiresAt = entry.ExpiresAt };
        }
    }

    /// <summary>Records that the cell finished <paramref name="generation"/> generations; false when the lease is lost.</summary>
    public bool ReportProgress(CellLease lease, int generation)
    {
        lock (_gate)
        {
            var entry = Holding(lease);
            if (entry is null)
            {
                return false;
            }

            entry.Generation = Math.Max(entry.Generation, generation);
            entry.Confirmed = true;
            return true;
        }
    }

    /// <summary>Marks the cell completed; false when the lease is lost (another worker will finish it).</summary>
    public bool Complete(CellLease lease, int generation)
    {
        lock (_gate)
        {
            var entry = Holding(lease);
            if (entry is null)
            {
                return false;
            }

            entry.Generation = Math.Max(entry.Generation, generation);
            entry.State = CellLeaseState.Completed;
            return true;
        }
    }

    /// <summary>
    /// Frees every cell whose lease expired, keeping its epoch and progress, so that it no longer counts
    /// as dead; a resumed run starts this way. Returns how many cells were freed.
    /// </summary>
    public int ReleaseExpired()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            int released = 0;
            foreach (var entry in _cells.Where(entry => IsExpired(entry, now)))
            {
                entry.State = CellLeaseState.Free;
                released++;
            }

            return released;
        }
    }

    /// <summary>The stored record of every cell in index order, for <see cref="Restore"/>.</summary>
    public IReadOnlyList<CellLeaseRecord> Export()
    {
        lock (_gate)
        {
            return _cells.Select(entry => new CellLeaseRecord(entry.State, entry.WorkerId, entry.Epoch, entry.ExpiresAt, entry.Generation))
                .ToList();
        }
    }

    public IReadOnlyList<CellStatus> Snapshot()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            return _cells
                .Select((entry, index) => new CellStatus(
                    index, IsExpired(entry, now) ? CellLeaseState.Free : entry.State, entry.WorkerId, entry.Generation, IsExpired(entry, now)))
                .ToList();
        }
    }

    private Entry? Holding(CellLease lease)
    {
        if (lease.CellIndex < 0 || lease.CellIndex >= _cells.Length)
        {
            return null;
        }

        var entry = _cells[lease.CellIndex];
        bool current = entry.State == CellLeaseState.Leased && entry.Epoch == lease.Epoch && entry.WorkerId == lease.WorkerId;
        return current && !IsExpired(entry, _time.GetUtcNow()) ? entry : null;
    }

    private static bool IsExpired(Entry entry, DateTimeOffset now) =>
        entry.State == CellLeaseState.Leased && now >= entry.ExpiresAt;

    private sealed class Entry
    {
        public CellLeaseState State { get; set; }

        public string? WorkerId { get; set; }

        public long Epoch { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }

        public int Generation { get; set; }

        /// <summary>Whether the holder has renewed the lease or reported progress since it was granted.</summary>
        public bool Confirmed { get; set; }
    }
}
