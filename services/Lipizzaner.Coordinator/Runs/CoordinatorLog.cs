namespace Lipizzaner.Coordinator.Runs;

/// <summary>The coordinator's log lines; each names the run, and the cell and worker where there is one.</summary>
internal static partial class CoordinatorLog
{
    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId} created; waiting for {MinClients} cells of capacity until {Deadline:O}")]
    public static partial void RunCreated(ILogger logger, string runId, int minClients, DateTimeOffset deadline);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} registered with capacity {Capacity} ({Registered} cells of capacity in all)")]
    public static partial void WorkerRegistered(ILogger logger, string runId, string workerId, int capacity, int registered);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: grid {Width}x{Height} built from {Registered} cells of capacity")]
    public static partial void GridBuilt(ILogger logger, string runId, int width, int height, int registered);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: cell {Cell} leased to worker {WorkerId} at epoch {Epoch}")]
    public static partial void LeaseGranted(ILogger logger, string runId, int cell, string workerId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Run {RunId}: cell {Cell} leased again to worker {WorkerId} at epoch {Epoch}, because the worker did not receive the first grant")]
    public static partial void LeaseGrantedAgain(ILogger logger, string runId, int cell, string workerId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Run {RunId}: cell {Cell} {Operation} from worker {WorkerId} at epoch {Epoch} rejected: the lease is lost")]
    public static partial void LeaseLost(ILogger logger, string runId, int cell, string workerId, long epoch, string operation);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: cell {Cell} completed by worker {WorkerId} after {Generation} generations, score {Score}")]
    public static partial void CellCompleted(ILogger logger, string runId, int cell, string workerId, int generation, double score);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} ended as {State}: {Reason}")]
    public static partial void RunEnded(ILogger logger, string runId, RunState state, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} resumed; it is {State} again")]
    public static partial void RunResumed(ILogger logger, string runId, RunState state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored {Count} runs from the run store; the active run is {ActiveRunId}")]
    public static partial void RunsRestored(ILogger logger, int count, string activeRunId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId}: evaluating the run policy failed")]
    public static partial void PolicyFailed(ILogger logger, string runId, Exception exception);
}
