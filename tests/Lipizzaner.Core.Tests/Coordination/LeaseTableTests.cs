using Lipizzaner.Core.Coordination;
using Microsoft.Extensions.Time.Testing;

namespace Lipizzaner.Core.Tests.Coordination;

public sealed class LeaseTableTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TryAcquire_HandsOutEachCellOnce()
    {
        var table = new LeaseTable(3, LeaseDuration, _time);

        var leases = new[] { table.TryAcquire("a"), table.TryAcquire("b"), table.TryAcquire("a") };

        Assert.Equal([0, 1, 2], leases.Select(lease => lease!.CellIndex));
        Assert.Null(table.TryAcquire("c"));
        Assert.All(leases, lease => Assert.Equal(_time.GetUtcNow() + LeaseDuration, lease!.ExpiresAt));
    }

    [Fact]
    public void ExpiredLease_IsReleasedToAnotherWorker()
    {
        var table = new LeaseTable(1, LeaseDuration, _time);
        var first = table.TryAcquire("a")!;

        _time.Advance(LeaseDuration);
        var status = Assert.Single(table.Snapshot());
        var second = table.TryAcquire("b");

        Assert.True(status.Expired);
        Assert.NotNull(second);
        Assert.Equal(0, second.CellIndex);
        Assert.Equal(first.Epoch + 1, second.Epoch);
        Assert.Equal("b", Assert.Single(table.Snapshot()).WorkerId);
    }

    [Fact]
    public void Renew_KeepsLeaseAlive()
    {
        var table = new LeaseTable(1, LeaseDuration, _time);
        var lease = table.TryAcquire("a")!;

        for (int beat = 0; beat < 5; beat++)
        {
            _time.Advance(TimeSpan.FromSeconds(20));
            lease = table.Renew(lease)!;
            Assert.NotNull(lease);
        }

        Assert.Null(table.TryAcquire("b"));
        Assert.False(Assert.Single(table.Snapshot()).Expired);
    }

    [Fact]
    public void ReclaimUnconfirmed_ReturnsLeaseWorkerNeverReceived()
    {
        var table = new LeaseTable(3, LeaseDuration, _time);
        var lost = table.TryAcquire("a")!;
        _time.Advance(TimeSpan.FromSeconds(5));

        var again = table.ReclaimUnconfirmed("a", new HashSet<(int, long)>());

        Assert.NotNull(again);
        Assert.Equal(lost.CellIndex, again.CellIndex);
        Assert.Equal(lost.Epoch, again.Epoch);
        Assert.Equal(_time.GetUtcNow() + LeaseDuration, again.ExpiresAt);
        Assert.Null(table.ReclaimUnconfirmed("b", new HashSet<(int, long)>()));
    }

    [Fact]
    public void ReclaimUnconfirmed_SkipsReceivedRenewedAndExpiredLeases()
    {
        var table = new LeaseTable(3, LeaseDuration, _time);
        var received = table.TryAcquire("a")!;
        var renewed = table.TryAcquire("a")!;
        var expired = table.TryAcquire("a")!;
        Assert.NotNull(table.Renew(renewed));
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.NotNull(table.Renew(renewed));
        Assert.True(table.ReportProgress(received, 1));
        _time.Advance(TimeSpan.FromSeconds(15));

        // Cell 0 was received; cell 1 renewed (so received too); cell 2's lease expired unrenewed.
        var again = table.ReclaimUnconfirmed("a", new HashSet<(int, long)> { (received.CellIndex, received.Epoch) });

        Assert.Null(again);
        Assert.True(table.Snapshot()[expired.CellIndex].Expired);
    }

    [Fact]
    public void ReclaimUnconfirmed_NeedsCurrentEpoch()
    {
        var table = new LeaseTable(1, LeaseDuration, _time);
        var first = table.TryAcquire("a")!;
        _time.Advance(LeaseDuration);
        var second = table.TryAcquire("a")!;

        // The worker received the first grant of cell 0 but not the second.
        var again = table.ReclaimUnconfirmed("a", new HashSet<(int, long)> { (first.CellIndex, first.Epoch) });

        Assert.NotNull(again);
        Assert.Equal(second.Epoch, again.Epoch);
        Assert.Null(table.ReclaimUnconfirmed("a", new HashSet<(int, long)> { (second.CellIndex, second.Epoch) }));
    }

    [Fact]
    public void StaleWorker_IsFencedOut()
    {
        var table = new LeaseTable(1, LeaseDuration, _time);
        var stale = table.TryAcquire("a")!;
        _time.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
        var current = table.TryAcquire("b")!;
        Assert.True(table.ReportProgress(current, 3));

        Assert.Null(table.Renew(stale));
        Assert.False(table.ReportProgress(stale, 9));
        Assert.False(table.Complete(stale, 9));
        Assert.Equal(3, Assert.Single(table.Snapshot()).Generation);
        Assert.Equal(CellLeaseState.Leased, Assert.Single(table.Snapshot()).State);
    }

    [Fact]
    public void Complete_IsFinalAndNeverReleased()
    {
        var table = new LeaseTable(1, LeaseDuration, _time);
        var lease = table.TryAcquire("a")!;

        Assert.True(table.Complete(lease, 10));
        _time.Advance(LeaseDuration * 10);

        var status = Assert.Single(table.Snapshot());
        Assert.Equal(CellLeaseState.Completed, status.State);
        Assert.False(status.Expired);
        Assert.Null(table.TryAcquire("b"));
    }
}

public sealed class RunPolicyTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AllCompleted_EndsRun()
    {
        var policy = new RunPolicy(0.75, TimeSpan.FromMinutes(5), 1, _time);

        var decision = policy.Evaluate([Status(0, CellLeaseState.Completed), Status(1, CellLeaseState.Completed)]);

        Assert.Equal(RunDecisionKind.Completed, decision.Kind);
    }

    [Fact]
    public void Stragglers_EndRunOnlyAfterTimeout()
    {
        var policy = new RunPolicy(0.75, TimeSpan.FromMinutes(5), 1, _time);
        CellStatus[] cells = [Status(0, CellLeaseState.Completed), Status(1, CellLeaseState.Completed), Status(2, CellLeaseState.Completed), Status(3, CellLeaseState.Leased)];

        Assert.Equal(RunDecisionKind.Continue, policy.Evaluate(cells).Kind);
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(RunDecisionKind.Continue, policy.Evaluate(cells).Kind);
        _time.Advance(TimeSpan.FromMinutes(1));
        var decision = policy.Evaluate(cells);

        Assert.Equal(RunDecisionKind.FinishedWithStragglers, decision.Kind);
        Assert.Equal([3], decision.Cells);
    }

    [Fact]
    public void BelowProportion_NeverStartsStragglerClock()
    {
        var policy = new RunPolicy(0.75, TimeSpan.Zero, 1, _time);
        CellStatus[] cells = [Status(0, CellLeaseState.Completed), Status(1, CellLeaseState.Leased), Status(2, CellLeaseState.Leased), Status(3, CellLeaseState.Leased)];

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(RunDecisionKind.Continue, policy.Evaluate(cells).Kind);
    }

    [Fact]
    public void TooManyDeadCells_AbortsRun()
    {
        var policy = new RunPolicy(1.0, TimeSpan.FromMinutes(5), 1, _time);

        var oneDead = policy.Evaluate([Status(0, CellLeaseState.Free, expired: true), Status(1, CellLeaseState.Leased)]);
        var twoDead = policy.Evaluate([Status(0, CellLeaseState.Free, expired: true), Status(1, CellLeaseState.Free, expired: true)]);

        Assert.Equal(RunDecisionKind.Continue, oneDead.Kind);
        Assert.Equal(RunDecisionKind.Aborted, twoDead.Kind);
        Assert.Equal([0, 1], twoDead.Cells);
    }

    [Fact]
    public void InvalidSettings_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunPolicy(0, TimeSpan.Zero, 0, _time));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunPolicy(1.5, TimeSpan.Zero, 0, _time));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunPolicy(0.5, TimeSpan.FromSeconds(-1), 0, _time));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunPolicy(0.5, TimeSpan.Zero, -1, _time));
    }

    private static CellStatus Status(int cell, CellLeaseState state, bool expired = false) =>
        new(cell, state, "worker", Generation: 0, expired);
}
