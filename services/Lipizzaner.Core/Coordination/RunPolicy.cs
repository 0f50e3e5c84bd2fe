namespace Lipizzaner.Core.Coordination;

public enum RunDecisionKind
{
    /// <summary>Keep training.</summary>
    Continue,

    /// <summary>Every cell completed.</summary>
    Completed,

    /// <summary>Enough cells completed and the straggler timeout passed: stop the rest, keep their last centers.</summary>
    FinishedWithStragglers,

    /// <summary>More cells are dead at once than allowed: stop cleanly, keeping checkpoints for a resume.</summary>
    Aborted,
}

/// <summary>The policy's verdict, with the cells it concerns and a sentence for logs and the API.</summary>
public sealed record RunDecision(RunDecisionKind Kind, IReadOnlyList<int> Cells, string Reason);

/// <summary>
/// When a distributed run ends. Stragglers: once <see cref="FinishProportion"/> of the cells have
/// completed and <see cref="StragglerTimeout"/> has passed since that moment, the run ends and the
/// unfinished cells' last centers count. Failures: a cell whose lease expired is dead until another
/// worker leases it; more than <see cref="MaxDeadCells"/> dead at once aborts the run.
/// </summary>
public sealed class RunPolicy
{
    private readonly TimeProvider _time;
    private DateTimeOffset? _proportionReachedAt;

    /// <summary>
    /// Creates the policy. <paramref name="proportionReachedAt"/> restores a saved policy's straggler
    /// clock (when an earlier instance saw the finish proportion reached); null for a new run.
    /// </summary>
    public RunPolicy(
        double finishProportion, TimeSpan stragglerTimeout, int maxDeadCells, TimeProvider time, DateTimeOffset? proportionReachedAt = null)
    {
        _proportionReachedAt = proportionReachedAt;
        if (!(finishProportion is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(finishProportion), finishProportion, "The finish proportion must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(stragglerTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(maxDeadCells);
        FinishProportion = finishProportion;
        StragglerTimeout = stragglerTimeout;
        MaxDeadCells = maxDeadCells;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public double FinishProportion { get; }

    public TimeSpan StragglerTimeout { get; }

    public int MaxDeadCells { get; }

    /// <summary>When <see cref="FinishProportion"/> of the cells were first seen completed (the straggler clock's start); null before.</summary>
    public DateTimeOffset? ProportionReachedAt => _proportionReachedAt;

    /// <summary>Decides from the current cell statuses; call it periodically (each call may start the straggler clock).</summary>
    public RunDecision Evaluate(IReadOnlyList<CellStatus> cells)
    {
        var dead = cells.Where(cell => cell.Expired).Select(cell => cell.CellIndex).ToList();
        if (dead.Count > MaxDeadCells)
        {
            return new RunDecision(RunDecisionKind.Aborted, dead,
                $"{dead.Count} cells are dead at once (leases expired), more than the {MaxDeadCells} allowed; checkpoints are kept for a resume.");
        }

        var unfinished = cells.Where(cell => cell.State != CellLeaseState.Completed).Select(cell => cell.CellIndex).ToList();
        if (unfinished.Count == 0)
        {
            return new RunDecision(RunDecisionKind.Completed, [], "Every cell completed.");
        }

        int completed = cells.Count - unfinished.Count;
        var now = _time.GetUtcNow();
        if (completed >= Math.Ceiling(FinishProportion * cells.Count))
        {
            _proportionReachedAt ??= now;
            if (now - _proportionReachedAt.Value >= StragglerTimeout)
            {
                return new RunDecision(RunDecisionKind.FinishedWithStragglers, unfinished,
                    $"{completed} of {cells.Count} cells completed and the straggler timeout of {StragglerTimeout.TotalSeconds:F0} s passed; {unfinished.Count} unfinished cells keep their last centers.");
            }
        }

        return new RunDecision(RunDecisionKind.Continue, unfinished, $"{completed} of {cells.Count} cells completed.");
    }
}
