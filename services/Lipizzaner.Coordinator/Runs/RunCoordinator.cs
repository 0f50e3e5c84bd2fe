using Lipizzaner.Coordinator.Distribution;
using Lipizzaner.Coordinator.Persistence;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Scoring;
using Lipizzaner.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Lipizzaner.Coordinator.Runs;

/// <summary>
/// State of every run created on this coordinator and of the one active run: registration, the grid, cell leases and
/// how the run ends. One run is active (pending or running) at a time; a new one can be created
/// once it ended. Every change is saved to the <see cref="IRunStore"/>, and the runs saved there are
/// read back when the coordinator starts, so a restarted coordinator continues where it stopped:
/// lease expiry times are absolute, and workers keep renewing their leases across the restart.
/// Every method is thread-safe; every clock reading comes from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class RunCoordinator
{
    private const int _maxWorkerIdLength = 128;
    private const int _maxCapacity = 4096;
    private const int _maxLocationLength = 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private readonly DistributionOptions _options;
    private readonly IRunStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<RunCoordinator> _logger;
    private Run? _active;

    public RunCoordinator(IOptions<DistributionOptions> options, IRunStore store, TimeProvider time, ILogger<RunCoordinator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        _options = options.Value;
        _store = store;
        _time = time;
        _logger = logger;
        foreach (var record in store.LoadAll())
        {
            var run = Run.FromRecord(record, time);
            _runs[run.Id] = run;
            if (record.Active && !IsEnded(run.State))
            {
                _active = run;
            }
        }

        if (_runs.Count > 0)
        {
            CoordinatorLog.RunsRestored(_logger, _runs.Count, _active?.Id ?? "none");
        }
    }

    /// <summary>Creates a run from its YAML configuration; refused while another run is active.</summary>
    public Reply<RunCreated> Create(string yamlText)
    {
        if (string.IsNullOrWhiteSpace(yamlText))
        {
            return Reply.Fail<RunCreated>(Outcome.Invalid, "The request body must be the run's YAML configuration; it is empty.");
        }

        LipizzanerConfig config;
        try
        {
            config = ConfigLoader.Load(yamlText, [], "the request body").Config;
        }
        catch (ConfigException exception)
        {
            return Reply.Fail<RunCreated>(Outcome.Invalid, exception.Message);
        }

        var (settings, problem) = RunSettings.Resolve(_options, config.Distribution);
        if (settings is null)
        {
            return Reply.Fail<RunCreated>(Outcome.Invalid, problem!);
        }

        lock (_gate)
        {
            if (_active is { } active && !IsEnded(active.State))
            {
                return Reply.Fail<RunCreated>(Outcome.Conflict,
                    $"Run {active.Id} is still {Name(active.State)}; the coordinator runs one run at a time.");
            }

            var now = _time.GetUtcNow();
            var run = new Run(Guid.CreateVersion7(now).ToString("N"), config, yamlText, settings, now + settings.RegistrationTimeout);
            _runs[run.Id] = run;
            _active = run;
            CoordinatorLog.RunCreated(_logger, run.Id, settings.MinClients, run.RegistrationDeadline);
            Persist(run);
            return Reply.Success(new RunCreated(run.Id, run.State, run.RegistrationDeadline));
        }
    }

    /// <summary>
    /// Continues an aborted or failed run from its checkpoints. An aborted run runs again with a fresh
    /// straggler clock, and its cells are leased to whichever workers register, however many. A failed
    /// run waits for registrations again. Rejected while another run is active, and for a completed run.
    /// </summary>
    public Reply<RunView> Resume(string runId)
    {
        lock (_gate)
        {
            var (run, failure) = Find<RunView>(runId);
            if (run is null)
            {
                return failure;
            }

            if (_active is { } active && !ReferenceEquals(active, run) && !IsEnded(active.State))
            {
                return Reply.Fail<RunView>(Outcome.Conflict,
                    $"Run {active.Id} is still {Name(active.State)}; the coordinator runs one run at a time.");
            }

            if (run.State is not (RunState.Aborted or RunState.Failed))
            {
                return Reply.Fail<RunView>(Outcome.Conflict,
                    $"Run {run.Id} is {Name(run.State)}; only an aborted or failed run can be resumed.");
            }

            var settings = run.Settings;
            if (run.Topology is null)
            {
                run.State = RunState.Pending;
                run.RegistrationDeadline = _time.GetUtcNow() + settings.RegistrationTimeout;
                run.Workers.Clear();
            }
            else
            {
                run.State = RunState.Running;
                run.Leases!.ReleaseExpired();
                run.Policy = new RunPolicy(settings.FinishProportion, settings.StragglerTimeout, settings.MaxDeadCells, _time);
            }

            run.Reason = null;
            _active = run;
            CoordinatorLog.RunResumed(_logger, run.Id, run.State);
            Persist(run);
            return Reply.Success(ViewOf(run));
        }
    }

    /// <summary>Every run this coordinator has stored, oldest first (run ids are time-ordered).</summary>
    public IReadOnlyList<RunSummary> List()
    {
        lock (_gate)
        {
            return _runs.Values
                .OrderBy(run => run.Id, StringComparer.Ordinal)
                .Select(run => new RunSummary(run.Id, run.State, run.Reason))
                .ToList();
        }
    }

    /// <summary>The active run (pending or running); not found when none is.</summary>
    public Reply<RunView> Current()
    {
        lock (_gate)
        {
            if (_active is { } run && !IsEnded(run.State))
            {
                return Reply.Success(ViewOf(run));
            }
        }

        return Reply.Fail<RunView>(Outcome.NotFound, "No run is pending or running; submit one with POST /runs.");
    }

    /// <summary>
    /// Registers a worker's capacity. The grid is built as soon as <see cref="RunSettings.MinClients"/>
    /// cells of capacity are registered; later registrations are accepted (those workers take over
    /// cells whose lease expired) but do not change the grid.
    /// </summary>
    public Reply<WorkerRegistered> Register(string runId, WorkerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        string? problem = CheckWorkerId(registration.WorkerId)
            ?? (registration.Capacity is < 1 or > _maxCapacity
                ? $"capacity is {registration.Capacity}; it must be between 1 and {_maxCapacity} cells."
                : null);
        if (problem is not null)
        {
            return Reply.Fail<WorkerRegistered>(Outcome.Invalid, problem);
        }

        string workerId = registration.WorkerId!;
        lock (_gate)
        {
            var (run, failure) = Find<WorkerRegistered>(runId);
            if (run is null)
            {
                return failure;
            }

            CheckRegistrationDeadline(run);
            if (IsEnded(run.State))
            {
                return Reply.Fail<WorkerRegistered>(Outcome.Conflict, $"Run {run.Id} is {Name(run.State)}: {run.Reason}");
            }

            run.Workers[workerId] = registration.Capacity;
            int registered = run.Workers.Values.Sum();
            CoordinatorLog.WorkerRegistered(_logger, run.Id, workerId, registration.Capacity, registered);
            LipizzanerMetrics.WorkersRegistered.Add(1);
            if (run.State == RunState.Pending && registered >= run.Settings.MinClients)
            {
                BuildGrid(run, registered);
            }

            Persist(run);

            return Reply.Success(
                new WorkerRegistered(run.Id, workerId, registration.Capacity, registered, run.State, GridOf(run)));
        }
    }

    /// <summary>Leases a free cell to a registered worker; no content while none is free or the grid is not built yet.</summary>
    public Reply<LeaseView> Lease(string runId, LeaseRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (CheckWorkerId(request.WorkerId) is { } problem)
        {
            return Reply.Fail<LeaseView>(Outcome.Invalid, problem);
        }

        string workerId = request.WorkerId!;
        lock (_gate)
        {
            var (run, failure) = Find<LeaseView>(runId);
            if (run is null)
            {
                return failure;
            }

            CheckRegistrationDeadline(run);
            if (IsEnded(run.State))
            {
                return Reply.Fail<LeaseView>(Outcome.Conflict, $"Run {run.Id} is {Name(run.State)}: {run.Reason}");
            }

            if (!run.Workers.TryGetValue(workerId, out int capacity))
            {
                return Reply.Fail<LeaseView>(Outcome.Conflict,
                    $"Worker {workerId} is not registered with run {run.Id}; register it at /runs/{run.Id}/workers first.");
            }

            if (run.State == RunState.Pending)
            {
                return Reply.Empty<LeaseView>("The grid is not built yet.");
            }

            // A retried request whose first response was lost gets the lease that request granted.
            if (request.ReceivedLeases is { } received
                && run.Leases!.ReclaimUnconfirmed(workerId, received.Select(key => (key.Cell, key.Epoch)).ToHashSet()) is { } granted)
            {
                CoordinatorLog.LeaseGrantedAgain(_logger, run.Id, granted.CellIndex, workerId, granted.Epoch);
                Persist(run);
                return Reply.Success(View(run, granted));
            }

            int held = run.Leases!.Snapshot().Count(cell => cell.State == CellLeaseState.Leased && cell.WorkerId == workerId);
            if (held >= capacity)
            {
                return Reply.Empty<LeaseView>($"Worker {workerId} already holds {held} leases, its capacity.");
            }

            if (run.Leases.TryAcquire(workerId) is not { } lease)
            {
                return Reply.Empty<LeaseView>("No cell is free.");
            }

            CoordinatorLog.LeaseGranted(_logger, run.Id, lease.CellIndex, workerId, lease.Epoch);
            Persist(run);
            return Reply.Success(View(run, lease));
        }
    }

    /// <summary>Renews a lease; a conflict when the worker no longer holds it or the run ended.</summary>
    public Reply<LeaseView> Heartbeat(string runId, int cell, LeaseCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return WithLease(runId, cell, call.WorkerId, call.Epoch, "heartbeat", (run, lease) =>
            run.Leases!.Renew(lease) is { } renewed ? View(run, renewed) : null);
    }

    /// <summary>Records the generations a cell finished.</summary>
    public Reply<LeaseView> Progress(string runId, int cell, ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Generation < 0)
        {
            return Reply.Fail<LeaseView>(Outcome.Invalid, $"generation is {report.Generation}; it must be zero or more.");
        }

        return WithLease(runId, cell, report.WorkerId, report.Epoch, "progress", (run, lease) =>
            run.Leases!.ReportProgress(lease, report.Generation) ? View(run, lease) : null);
    }

    /// <summary>Marks a cell completed with its final score and mixture location, and applies the run policy at once.</summary>
    public Reply<LeaseView> Complete(string runId, int cell, CompletionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Generation < 0 || report.Score is { } given && !double.IsFinite(given))
        {
            return Reply.Fail<LeaseView>(Outcome.Invalid,
                $"generation ({report.Generation}) must be zero or more and score ({report.Score}) a finite number, or null when the run does not score.");
        }

        if (report.Mixture is { Length: > _maxLocationLength })
        {
            return Reply.Fail<LeaseView>(Outcome.Invalid, $"mixture has {report.Mixture.Length} characters; at most {_maxLocationLength} are allowed.");
        }

        return WithLease(runId, cell, report.WorkerId, report.Epoch, "completion", (run, lease) =>
        {
            if (!run.Leases!.Complete(lease, report.Generation))
            {
                return null;
            }

            // A run without scoring completes its cells with no FID; they count as completed but not for the results.
            if (report.Score is { } score)
            {
                run.Scores[cell] = score;
            }

            if (report.Score is { } fid && run.Config.Trainer.Params.Score.Type == ScoreKind.Fid)
            {
                LipizzanerMetrics.CellFid.Record(fid,
                    new KeyValuePair<string, object?>("run", run.Id), new KeyValuePair<string, object?>("cell", cell));
            }

            if (!string.IsNullOrWhiteSpace(report.Mixture))
            {
                run.Mixtures[cell] = report.Mixture;
            }

            CoordinatorLog.CellCompleted(_logger, run.Id, cell, lease.WorkerId, report.Generation, report.Score ?? double.NaN);

            // Starts the straggler clock at the completion that reaches the finish proportion.
            ApplyPolicy(run);
            return View(run, lease);
        });
    }

    public Reply<RunView> Get(string runId)
    {
        lock (_gate)
        {
            var (run, failure) = Find<RunView>(runId);
            return run is null ? failure : Reply.Success(ViewOf(run));
        }
    }

    /// <summary>The run's YAML configuration text, exactly as it was submitted.</summary>
    public Reply<string> ConfigText(string runId)
    {
        lock (_gate)
        {
            var (run, failure) = Find<string>(runId);
            return run is null ? failure : Reply.Success(run.ConfigText);
        }
    }

    /// <summary>The completed cell with the best final score, once the run ended.</summary>
    public Reply<RunResults> Results(string runId)
    {
        lock (_gate)
        {
            var (run, failure) = Find<RunResults>(runId);
            if (run is null)
            {
                return failure;
            }

            if (!IsEnded(run.State))
            {
                return Reply.Fail<RunResults>(Outcome.Conflict, $"Run {run.Id} is still {Name(run.State)}; results come once it ends.");
            }

            if (run.Scores.Count == 0)
            {
                return Reply.Fail<RunResults>(Outcome.Conflict, $"Run {run.Id} is {Name(run.State)} and no cell reported a score: {run.Reason}");
            }

            // The best score by its direction (lower FID and KID, higher Inception Score); ties go to the lower cell index.
            var kind = run.Config.Trainer.Params.Score.Type;
            var ordered = run.Scores.OrderBy(pair => ScoreKinds.HigherIsBetter(kind) ? -pair.Value : pair.Value).ThenBy(pair => pair.Key);
            var best = ordered.First();
            var (x, y) = run.Topology!.Coordinates(best.Key);
            return Reply.Success(new RunResults(
                run.Id, run.State, best.Key, x, y, best.Value, ScoreKinds.ConfigName(kind), run.Mixtures.GetValueOrDefault(best.Key)));
        }
    }

    /// <summary>
    /// Applies the registration timeout and the run policy to the active run and records the lease
    /// gauges; called periodically by <see cref="RunPolicyService"/>.
    /// </summary>
    public void Evaluate()
    {
        lock (_gate)
        {
            if (_active is not { } run || IsEnded(run.State))
            {
                return;
            }

            try
            {
                var before = (run.State, run.Policy?.ProportionReachedAt);
                CheckRegistrationDeadline(run);
                if (run.State == RunState.Running)
                {
                    ApplyPolicy(run);
                }

                if (before != (run.State, run.Policy?.ProportionReachedAt))
                {
                    Persist(run);
                }
            }
            catch (Exception exception) when (exception is InvalidOperationException or ArgumentException)
            {
                CoordinatorLog.PolicyFailed(_logger, run.Id, exception);
            }
        }
    }

    private Reply<LeaseView> WithLease(
        string runId, int cell, string? workerId, long epoch, string operation, Func<Run, CellLease, LeaseView?> action)
    {
        if (CheckWorkerId(workerId) is { } problem)
        {
            return Reply.Fail<LeaseView>(Outcome.Invalid, problem);
        }

        lock (_gate)
        {
            var (run, failure) = Find<LeaseView>(runId);
            if (run is null)
            {
                return failure;
            }

            if (run.State != RunState.Running)
            {
                return Reply.Fail<LeaseView>(Outcome.Conflict,
                    $"Run {run.Id} is {Name(run.State)}{(run.Reason is null ? "" : ": " + run.Reason)}; stop working on cell {cell}.");
            }

            if (cell < 0 || cell >= run.Leases!.CellCount)
            {
                return Reply.Fail<LeaseView>(Outcome.NotFound, $"Run {run.Id} has no cell {cell}; its grid has {run.Leases!.CellCount} cells.");
            }

            var view = action(run, new CellLease(cell, workerId!, epoch, default));
            if (view is null)
            {
                CoordinatorLog.LeaseLost(_logger, run.Id, cell, workerId!, epoch, operation);
                return Reply.Fail<LeaseView>(Outcome.Conflict,
                    $"Worker {workerId} no longer holds cell {cell} of run {run.Id} at epoch {epoch}; stop working on it.");
            }

            Persist(run);
            return Reply.Success(view);
        }
    }

    private void BuildGrid(Run run, int registered)
    {
        var settings = run.Settings;
        var (width, height) = GridShape.Largest(Math.Min(registered, settings.MaxClients), settings.MaxAspectRatio);
        run.Topology = new GridTopology(width, height);
        run.Leases = new LeaseTable(width * height, settings.LeaseDuration, _time);
        run.Policy = new RunPolicy(settings.FinishProportion, settings.StragglerTimeout, settings.MaxDeadCells, _time);
        run.State = RunState.Running;
        CoordinatorLog.GridBuilt(_logger, run.Id, width, height, registered);
    }

    private void CheckRegistrationDeadline(Run run)
    {
        if (run.State != RunState.Pending || _time.GetUtcNow() < run.RegistrationDeadline)
        {
            return;
        }

        int registered = run.Workers.Values.Sum();
        End(run, RunState.Failed,
            $"The registration timeout of {run.Settings.RegistrationTimeout.TotalSeconds:F0} s passed with {registered} cells of "
            + $"capacity from {run.Workers.Count} workers registered; min_clients requires at least {run.Settings.MinClients}. "
            + "Start more workers, or lower distribution.min_clients.");
    }

    private void ApplyPolicy(Run run)
    {
        var cells = run.Leases!.Snapshot();
        var tags = new KeyValuePair<string, object?>("run", run.Id);
        LipizzanerMetrics.LeasesActive.Record(cells.Count(cell => cell.State == CellLeaseState.Leased), tags);
        LipizzanerMetrics.CellsDead.Record(cells.Count(cell => cell.Expired), tags);

        var decision = run.Policy!.Evaluate(cells);
        switch (decision.Kind)
        {
            case RunDecisionKind.Completed:
            case RunDecisionKind.FinishedWithStragglers:
                End(run, RunState.Completed, decision.Reason);
                break;
            case RunDecisionKind.Aborted:
                End(run, RunState.Aborted, decision.Reason);
                break;
            case RunDecisionKind.Continue:
            default:
                break;
        }
    }

    private void End(Run run, RunState state, string reason)
    {
        run.State = state;
        run.Reason = reason;
        LipizzanerMetrics.RunsEnded.Add(1, new KeyValuePair<string, object?>("state", Name(state)));
        CoordinatorLog.RunEnded(_logger, run.Id, state, reason);
    }

    private void Persist(Run run) => _store.Save(run.ToRecord(ReferenceEquals(run, _active) && !IsEnded(run.State)));

    private (Run? Run, Reply<T> Failure) Find<T>(string runId) =>
        _runs.TryGetValue(runId, out var run)
            ? (run, default)
            : (null, Reply.Fail<T>(Outcome.NotFound, $"No run {runId} is known to this coordinator."));

    private static string? CheckWorkerId(string? workerId) =>
        string.IsNullOrWhiteSpace(workerId) ? "worker_id is missing; it names the worker."
        : workerId.Length > _maxWorkerIdLength ? $"worker_id has {workerId.Length} characters; at most {_maxWorkerIdLength} are allowed."
        : null;

    private static LeaseView View(Run run, CellLease lease)
    {
        var (x, y) = run.Topology!.Coordinates(lease.CellIndex);
        return new LeaseView(lease.CellIndex, x, y, lease.WorkerId, lease.Epoch, lease.ExpiresAt);
    }

    private static RunView ViewOf(Run run)
    {
        var scores = run.Scores;
        var cells = run.Leases is null
            ? []
            : run.Leases.Snapshot().Select(status =>
            {
                var (x, y) = run.Topology!.Coordinates(status.CellIndex);
                return new CellView(status.CellIndex, x, y, status.State,
                    status.State == CellLeaseState.Free ? null : status.WorkerId, status.Generation,
                    scores.TryGetValue(status.CellIndex, out double score) ? score : null);
            }).ToList();
        return new RunView(run.Id, run.State, run.Reason, run.Config.Trainer.NIterations,
            run.Workers.Values.Sum(), run.RegistrationDeadline, GridOf(run), cells);
    }

    private static GridView? GridOf(Run run) =>
        run.Topology is { } topology ? new GridView(topology.Width, topology.Height) : null;

    private static bool IsEnded(RunState state) => state is RunState.Completed or RunState.Aborted or RunState.Failed;

    private static string Name(RunState state) => state.ToString().ToLowerInvariant();

    private sealed class Run(string id, LipizzanerConfig config, string configText, RunSettings settings, DateTimeOffset registrationDeadline)
    {
        public string Id { get; } = id;

        public LipizzanerConfig Config { get; } = config;

        public string ConfigText { get; } = configText;

        public RunSettings Settings { get; } = settings;

        public DateTimeOffset RegistrationDeadline { get; set; } = registrationDeadline;

        public RunState State { get; set; } = RunState.Pending;

        public string? Reason { get; set; }

        public Dictionary<string, int> Workers { get; } = new(StringComparer.Ordinal);

        public GridTopology? Topology { get; set; }

        public LeaseTable? Leases { get; set; }

        public RunPolicy? Policy { get; set; }

        public Dictionary<int, double> Scores { get; } = [];

        public Dictionary<int, string> Mixtures { get; } = [];

        public RunRecord ToRecord(bool active) => new()
        {
            RunId = Id,
            ConfigText = ConfigText,
            Settings = Settings,
            RegistrationDeadline = RegistrationDeadline,
            State = State,
            Reason = Reason,
            Workers = new Dictionary<string, int>(Workers, StringComparer.Ordinal),
            Grid = GridOf(this),
            Cells = Leases?.Export(),
            ProportionReachedAt = Policy?.ProportionReachedAt,
            Scores = new Dictionary<int, double>(Scores),
            Mixtures = new Dictionary<int, string>(Mixtures),
            Active = active,
        };

        public static Run FromRecord(RunRecord record, TimeProvider time)
        {
            var config = ConfigLoader.Load(record.ConfigText, [], $"the saved configuration of run {record.RunId}").Config;
            var settings = record.Settings;
            var run = new Run(record.RunId, config, record.ConfigText, settings, record.RegistrationDeadline)
            {
                State = record.State,
                Reason = record.Reason,
            };
            foreach (var (worker, capacity) in record.Workers)
            {
                run.Workers[worker] = capacity;
            }

            foreach (var (cell, score) in record.Scores)
            {
                run.Scores[cell] = score;
            }

            foreach (var (cell, mixture) in record.Mixtures)
            {
                run.Mixtures[cell] = mixture;
            }

            if (record.Grid is { } grid)
            {
                run.Topology = new GridTopology(grid.Width, grid.Height);
                var cells = record.Cells ?? throw new InvalidDataException($"The saved record of run {record.RunId} has a grid but no cells.");
                if (cells.Count != grid.Width * grid.Height)
                {
                    throw new InvalidDataException(
                        $"The saved record of run {record.RunId} has {cells.Count} cells for a {grid.Width}x{grid.Height} grid.");
                }

                run.Leases = LeaseTable.Restore(cells, settings.LeaseDuration, time);
                run.Policy = new RunPolicy(settings.FinishProportion, settings.StragglerTimeout, settings.MaxDeadCells, time, record.ProportionReachedAt);
            }

            return run;
        }
    }
}
