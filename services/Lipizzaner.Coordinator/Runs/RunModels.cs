using Lipizzaner.Core.Coordination;

namespace Lipizzaner.Coordinator.Runs;

// Request and response bodies; JSON names are snake_case (worker_id, expires_at, best_cell).

public enum RunState
{
    /// <summary>Waiting for workers to register enough capacity.</summary>
    Pending,

    /// <summary>The grid is built; cells are leased and trained.</summary>
    Running,

    /// <summary>Every cell completed, or enough did and the straggler timeout passed.</summary>
    Completed,

    /// <summary>Too many cells were dead at once; checkpoints are kept for a resume.</summary>
    Aborted,

    /// <summary>The run never started: too little capacity registered in time.</summary>
    Failed,
}

/// <summary>One line of the run list: the run's id, state and the reason it ended, if it did.</summary>
public sealed record RunSummary(string RunId, RunState State, string? Reason);

public sealed record RunCreated(string RunId, RunState State, DateTimeOffset RegistrationDeadline);

public sealed record WorkerRegistration(string? WorkerId, int Capacity);

public sealed record WorkerRegistered(string RunId, string WorkerId, int Capacity, int RegisteredCapacity, RunState State, GridView? Grid);

/// <summary>
/// A worker's request for a cell. <see cref="ReceivedLeases"/> lists every lease the worker received in
/// this run; when it is set, a lease of this worker that is not in the list and was never renewed is
/// returned again in place of a new cell, because its response was lost.
/// </summary>
public sealed record LeaseRequest(string? WorkerId, IReadOnlyList<LeaseKey>? ReceivedLeases = null);

/// <summary>A lease as the worker received it: the cell and the epoch.</summary>
public sealed record LeaseKey(int Cell, long Epoch);

public sealed record LeaseCall(string? WorkerId, long Epoch);

public sealed record ProgressReport(string? WorkerId, long Epoch, int Generation);

/// <summary>
/// A cell's completion; <see cref="Score"/> is the final score of the cell's mixture in the run's
/// <c>trainer.params.score.type</c>, null when the run's configuration disables scoring, and
/// <see cref="Mixture"/> is where the worker stored the cell's final mixture (an <c>s3://</c> URI or a folder).
/// </summary>
public sealed record CompletionReport(string? WorkerId, long Epoch, int Generation, double? Score, string? Mixture = null);

public sealed record LeaseView(int Cell, int X, int Y, string WorkerId, long Epoch, DateTimeOffset ExpiresAt);

public sealed record GridView(int Width, int Height);

public sealed record CellView(int Cell, int X, int Y, CellLeaseState State, string? WorkerId, int Generation, double? Score);

public sealed record RunView(
    string RunId,
    RunState State,
    string? Reason,
    int Generations,
    int RegisteredCapacity,
    DateTimeOffset RegistrationDeadline,
    GridView? Grid,
    IReadOnlyList<CellView> Cells);

/// <summary>
/// The best cell of an ended run by its final score (<see cref="ScoreType"/> as in
/// <c>trainer.params.score.type</c>); <see cref="Mixture"/> is where its final mixture is stored, when its worker reported it.
/// </summary>
public sealed record RunResults(string RunId, RunState State, int BestCell, int X, int Y, double Score, string ScoreType, string? Mixture);

/// <summary>How an operation ended, mapped to an HTTP status by the endpoints.</summary>
public enum Outcome
{
    Ok,
    NoContent,
    Invalid,
    NotFound,
    Conflict,
}

/// <summary>Result of an operation: a value on success, otherwise the outcome and a sentence with the reason.</summary>
public readonly record struct Reply<T>(Outcome Outcome, T? Value, string? Problem);

public static class Reply
{
    public static Reply<T> Success<T>(T value) => new(Outcome.Ok, value, null);

    public static Reply<T> Empty<T>(string reason) => new(Outcome.NoContent, default, reason);

    public static Reply<T> Fail<T>(Outcome outcome, string problem) => new(outcome, default, problem);
}
