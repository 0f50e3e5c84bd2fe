using Lipizzaner.Coordinator.Runs;
using Lipizzaner.Core.Coordination;

namespace Lipizzaner.Coordinator.Persistence;

/// <summary>
/// The coordinator's whole state of one run, as saved to the run store after every change and
/// read back when the coordinator starts. The configuration is kept as submitted and parsed again.
/// </summary>
public sealed record RunRecord
{
    /// <summary>Version of this layout; a coordinator refuses records of another version.</summary>
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    public required string RunId { get; init; }

    public required string ConfigText { get; init; }

    public required RunSettings Settings { get; init; }

    public required DateTimeOffset RegistrationDeadline { get; init; }

    public required RunState State { get; init; }

    public string? Reason { get; init; }

    /// <summary>Registered workers and their capacities, in cells.</summary>
    public required IReadOnlyDictionary<string, int> Workers { get; init; }

    /// <summary>The grid, once built.</summary>
    public GridView? Grid { get; init; }

    /// <summary>The lease table's records in cell order, once the grid is built.</summary>
    public IReadOnlyList<CellLeaseRecord>? Cells { get; init; }

    /// <summary>When the finish proportion was reached (the straggler clock's start).</summary>
    public DateTimeOffset? ProportionReachedAt { get; init; }

    /// <summary>Final score of each completed, scored cell.</summary>
    public required IReadOnlyDictionary<int, double> Scores { get; init; }

    /// <summary>Where each completed cell's worker stored its final mixture.</summary>
    public required IReadOnlyDictionary<int, string> Mixtures { get; init; }

    /// <summary>Whether this is the coordinator's active run (pending or running) at the time of the record.</summary>
    public required bool Active { get; init; }
}
