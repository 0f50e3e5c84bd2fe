using Microsoft.Extensions.Logging;

namespace Lipizzaner.CellWorker.Worker;

/// <summary>The cell worker's log lines. Each names the run and the worker, and the cell where there is one.</summary>
internal static partial class CellWorkerLog
{
    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} registered with capacity {Capacity} ({Registered} cells of capacity in all, run {State})")]
    public static partial void Registered(ILogger logger, string runId, string workerId, int capacity, int registered, string state);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} trains on a {Width}x{Height} grid for {Generations} generations")]
    public static partial void GridKnown(ILogger logger, string runId, string workerId, int width, int height, int generations);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} leased cell {Cell} ({X},{Y}) at epoch {Epoch}")]
    public static partial void Leased(ILogger logger, string runId, string workerId, int cell, int x, int y, long epoch);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} resumes cell {Cell} after generation {Generation} from its checkpoint")]
    public static partial void Resumed(ILogger logger, string runId, string workerId, int cell, int generation);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} starts cell {Cell} from generation 0 because it has no usable checkpoint")]
    public static partial void Initialised(ILogger logger, string runId, string workerId, int cell);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Run {RunId}: worker {WorkerId} found the checkpoint of cell {Cell} at generation {Generation} unusable and tries an older one")]
    public static partial void CheckpointUnusable(ILogger logger, string runId, string workerId, int cell, int generation, Exception error);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} finished generation {Generation} of cell {Cell} in {Seconds:F2} s ({Neighbours} neighbour centers)")]
    public static partial void GenerationFinished(ILogger logger, string runId, string workerId, int cell, int generation, double seconds, int neighbours);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} completed cell {Cell} after {Generation} generations, final mixture score {Score}, mixture stored at {Mixture}")]
    public static partial void Completed(ILogger logger, string runId, string workerId, int cell, int generation, double score, string mixture);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Run {RunId}: worker {WorkerId} lost the lease of cell {Cell} at epoch {Epoch}; so it stops working on the cell: {Reason}")]
    public static partial void LeaseLost(ILogger logger, string runId, string workerId, int cell, long epoch, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Run {RunId}: worker {WorkerId} failed to renew the lease of cell {Cell} and retries at the next heartbeat")]
    public static partial void HeartbeatFailed(ILogger logger, string runId, string workerId, int cell, Exception error);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Run {RunId}: worker {WorkerId} failed on cell {Cell} and stops it, so the cell is leased again after its lease expires")]
    public static partial void CellFailed(ILogger logger, string runId, string workerId, int cell, Exception error);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} stops cell {Cell} because the worker was cancelled, and leaves it to its lease expiry")]
    public static partial void CellStopped(ILogger logger, string runId, string workerId, int cell);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId}: worker {WorkerId} stops because the run is {State}")]
    public static partial void RunEnded(ILogger logger, string runId, string workerId, string state);
}
