using Lipizzaner.CellWorker.Exchange;
using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Storage;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Imaging;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.CellWorker.Worker;

/// <summary>Settings of one cell worker process.</summary>
public sealed record CellWorkerOptions
{
    /// <summary>Names the worker at the coordinator and in every log line; unique per run.</summary>
    public required string WorkerId { get; init; }

    /// <summary>How many cells the worker trains at a time. Unit: cells. Default 1.</summary>
    public int Capacity { get; init; } = 1;

    /// <summary>StackExchange.Redis configuration string of the center exchange (<c>host:port,password=...</c>).</summary>
    public required string RedisConfiguration { get; init; }

    /// <summary>
    /// S3 connection string of the checkpoint store (<c>Endpoint=...;AccessKey=...;SecretKey=...</c>).
    /// Exactly one of this and <see cref="CheckpointFolder"/> is set.
    /// </summary>
    public string? S3ConnectionString { get; init; }

    /// <summary>Folder for checkpoints and final mixtures that every worker reaches (a shared file system), instead of S3.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Bucket of the checkpoints, created when missing.</summary>
    public string CheckpointBucket { get; init; } = "lipizzaner-checkpoints";

    /// <summary>
    /// Interval of the lease renewals while a cell trains, besides the renewal after each generation.
    /// Use at most a third of the coordinator's LeaseDuration. Default 20 s, a third of its default lease.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Delay before the next lease request when no cell is free or the grid is not built. Default 1 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Folder of the FID classifier. Null selects the cache, as in the embedded runner.</summary>
    public string? ClassifierDirectory { get; init; }

    /// <summary>Retries of the center exchange's Redis calls; null selects <see cref="RetryOptions.Redis"/>.</summary>
    public RetryOptions? RedisResilience { get; init; }

    /// <summary>Retries of the checkpoint store's S3 calls; null selects <see cref="RetryOptions.S3"/>.</summary>
    public RetryOptions? S3Resilience { get; init; }
}

/// <summary>
/// The cell worker's training loop for one run. It reads the run's configuration from the
/// coordinator, registers its capacity, waits for the grid, and then keeps up to
/// <see cref="CellWorkerOptions.Capacity"/> cells in training. For each leased cell it restores the
/// newest valid checkpoint in S3 (or initialises the cell), publishes the center to Redis and runs
/// the generations against the neighbours' centers there. Between generations it renews the lease,
/// reports progress and checkpoints every <c>general.checkpoint_period</c> generations, and a timer
/// renews the lease during a generation as well. After the last generation it scores the cell's
/// mixture when the run scores, then completes the cell. A lost lease stops that cell without
/// completing it. The loop returns once the run ended.
/// </summary>
/// <remarks>
/// Generations run on dedicated threads, so the thread pool stays free for heartbeats and HTTP
/// calls however long a generation takes.
/// </remarks>
public sealed class CellWorkerLoop
{
    private readonly CoordinatorClient _client;
    private readonly string _runId;
    private readonly CellWorkerOptions _options;
    private readonly ILogger _logger;

    public CellWorkerLoop(CoordinatorClient client, string runId, CellWorkerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Capacity, 1);
        if (string.IsNullOrWhiteSpace(options.S3ConnectionString) == string.IsNullOrWhiteSpace(options.CheckpointFolder))
        {
            throw new ArgumentException("Set exactly one of S3ConnectionString and CheckpointFolder.", nameof(options));
        }

        _client = client;
        _runId = RedisKeys.ValidateRunId(runId);
        _options = options;
        _logger = logger;
    }

    /// <summary>Event raised after each generation that a cell of this worker finished, on the thread that ran it.</summary>
    public event Action<GenerationRecord>? GenerationCompleted;

    /// <summary>Trains leased cells until the run ends. Cancelling stops every cell without completing it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string yaml = await _client.GetConfigAsync(_runId, cancellationToken).ConfigureAwait(false);
        var config = ConfigLoader.Load(yaml, [], $"the configuration of run {_runId}").Config;
        var registration = await _client.RegisterAsync(_runId, _options.WorkerId, _options.Capacity, cancellationToken).ConfigureAwait(false);
        CellWorkerLog.Registered(_logger, _runId, _options.WorkerId, _options.Capacity, registration.RegisteredCapacity, registration.State);

        var grid = registration.Grid ?? await WaitForGridAsync(cancellationToken).ConfigureAwait(false);
        if (grid is null)
        {
            return;
        }

        // The coordinator sizes the grid from the registered capacity, so its grid, not the configuration's, is the run's.
        var topology = new GridTopology(grid.Width, grid.Height);
        CellWorkerLog.GridKnown(_logger, _runId, _options.WorkerId, grid.Width, grid.Height, config.Trainer.NIterations);
        TorchSetup.Configure(config.Runtime.TorchThreads);
        var device = torch.device(config.Runtime.Device);

        using var resources = await RunResources.LoadAsync(config, _options.ClassifierDirectory, _logger, cancellationToken).ConfigureAwait(false);
        using var training = resources.CreateTrainingData(NetworkFactory.Spec(config.Network.Name).ImageSide, device);
        using var scorers = RunScorers.Create(config, resources, _logger);
        var context = new RunContext(config, topology, device, training, scorers);

        await using var exchange = await RedisCenterExchange.ConnectAsync(
            _options.RedisConfiguration, _runId, topology, _logger, _options.RedisResilience, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var s3 = string.IsNullOrWhiteSpace(_options.S3ConnectionString)
            ? null
            : S3CheckpointStore.Create(_options.S3ConnectionString, _options.CheckpointBucket, _runId, topology, _logger, _options.S3Resilience);
        CellStore store = s3 is not null ? new(s3, s3) : FolderStore(topology);
        var heartbeat = config.Distribution.HeartbeatInterval is { } seconds ? TimeSpan.FromSeconds(seconds) : _options.HeartbeatInterval;

        var active = new List<Task>();
        // Every lease this loop received, sent with each lease request (see CoordinatorClient.LeaseAsync).
        var received = new List<CellLeaseGrant>();
        try
        {
            while (true)
            {
                active.RemoveAll(task => task.IsCompleted);
                if (active.Count < _options.Capacity)
                {
                    var (runEnded, lease) = await TryLeaseAsync(received, cancellationToken).ConfigureAwait(false);
                    if (runEnded)
                    {
                        return;
                    }

                    if (lease is { } granted)
                    {
                        CellWorkerLog.Leased(_logger, _runId, _options.WorkerId, granted.Cell, granted.X, granted.Y, granted.Epoch);
                        received.Add(granted);
                        active.Add(Task.Run(() => RunCellAsync(context, exchange, store, granted, heartbeat, cancellationToken), CancellationToken.None));
                        continue;
                    }
                }

                var status = await _client.GetRunAsync(_runId, cancellationToken).ConfigureAwait(false);
                if (status.HasEnded)
                {
                    CellWorkerLog.RunEnded(_logger, _runId, _options.WorkerId, status.State);
                    return;
                }

                var delay = Task.Delay(_options.PollInterval, cancellationToken);
                await Task.WhenAny([delay, .. active]).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            // Cells of an ended run stop at their next lease call (409). Their torch state must be
            // released before the training data, the exchange and the store are disposed.
            await Task.WhenAll(active).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Requests a lease. Returns no lease while no cell is free, and <c>RunEnded</c> when the coordinator rejected the request because the run ended.</summary>
    private async Task<(bool RunEnded, CellLeaseGrant? Lease)> TryLeaseAsync(IReadOnlyList<CellLeaseGrant> received, CancellationToken cancellationToken)
    {
        try
        {
            return (false, await _client.LeaseAsync(_runId, _options.WorkerId, received, cancellationToken).ConfigureAwait(false));
        }
        catch (CoordinatorException error) when (error.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            var status = await _client.GetRunAsync(_runId, cancellationToken).ConfigureAwait(false);
            if (status.HasEnded)
            {
                CellWorkerLog.RunEnded(_logger, _runId, _options.WorkerId, status.State);
                return (true, null);
            }

            throw;
        }
    }

    private async Task<GridShapeView?> WaitForGridAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = await _client.GetRunAsync(_runId, cancellationToken).ConfigureAwait(false);
            if (status.HasEnded)
            {
                CellWorkerLog.RunEnded(_logger, _runId, _options.WorkerId, status.State);
                return null;
            }

            if (status.Grid is { } grid)
            {
                return grid;
            }

            await Task.Delay(_options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunCellAsync(
        RunContext context, ICenterExchange exchange, CellStore store, CellLeaseGrant lease, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        using var cell = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lost = new LeaseLossSignal();
        Task heartbeats = Task.CompletedTask;
        var scorer = context.Scorers?.CreateScorer(context.Config.Trainer.Params.Score.ScoreSampleSize);
        try
        {
            using var trainer = new CellTrainer(lease.Cell, context.Config, context.Topology, context.Training, scorer, context.Device);
            await PrepareAsync(trainer, store.Checkpoints, context.Device, cell.Token).ConfigureAwait(false);
            await exchange.PublishAsync(trainer.Center(), cell.Token).ConfigureAwait(false);
            heartbeats = HeartbeatLoopAsync(lease, heartbeat, cell, lost);

            int generations = context.Config.Trainer.NIterations;
            int checkpointPeriod = context.Config.General.CheckpointPeriod;
            while (trainer.State.Generation < generations)
            {
                var record = await OnOwnThread(() => trainer.RunGenerationAsync(exchange, cell.Token).GetAwaiter().GetResult()).ConfigureAwait(false);
                await exchange.PublishAsync(trainer.Center(), cell.Token).ConfigureAwait(false);
                int generation = trainer.State.Generation;
                if (checkpointPeriod > 0 && (generation % checkpointPeriod == 0 || generation == generations))
                {
                    await store.Checkpoints.WriteAsync(lease.Cell, generation, trainer.State.ToBytes(), cell.Token).ConfigureAwait(false);
                }

                await _client.ProgressAsync(_runId, lease, generation, cell.Token).ConfigureAwait(false);
                await _client.HeartbeatAsync(_runId, lease, cell.Token).ConfigureAwait(false);
                CellWorkerLog.GenerationFinished(
                    _logger, _runId, _options.WorkerId, lease.Cell, generation, record.Seconds, record.NeighbourGenerations.Count);
                GenerationCompleted?.Invoke(record);
            }

            string scratch = Path.Combine(Path.GetTempPath(), $"lipizzaner-{_runId}-cell-{lease.Cell}-{Guid.NewGuid():N}");
            try
            {
                double? score = await OnOwnThread(() => FinishCell(context, trainer, exchange, scratch, cell.Token)).ConfigureAwait(false);
                string mixture = await store.Outputs.WriteMixtureAsync(lease.Cell, scratch, cell.Token).ConfigureAwait(false);
                await _client.CompleteAsync(_runId, lease, trainer.State.Generation, score, mixture, cell.Token).ConfigureAwait(false);
                CellWorkerLog.Completed(_logger, _runId, _options.WorkerId, lease.Cell, trainer.State.Generation, score ?? double.NaN, mixture);
            }
            finally
            {
                if (Directory.Exists(scratch))
                {
                    Directory.Delete(scratch, recursive: true);
                }
            }
        }
        catch (LeaseLostException error)
        {
            CellWorkerLog.LeaseLost(_logger, _runId, _options.WorkerId, lease.Cell, lease.Epoch, error.Message);
        }
        catch (OperationCanceledException) when (lost.Error is { } error && !cancellationToken.IsCancellationRequested)
        {
            CellWorkerLog.LeaseLost(_logger, _runId, _options.WorkerId, lease.Cell, lease.Epoch, error.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            CellWorkerLog.CellStopped(_logger, _runId, _options.WorkerId, lease.Cell);
        }
#pragma warning disable CA1031 // One cell's failure must not stop the worker's other cells; it is logged and the lease expires.
        catch (Exception error)
#pragma warning restore CA1031
        {
            CellWorkerLog.CellFailed(_logger, _runId, _options.WorkerId, lease.Cell, error);
        }
        finally
        {
            await cell.CancelAsync().ConfigureAwait(false);
            await heartbeats.ConfigureAwait(false);
            scorer?.Dispose();
        }
    }

    /// <summary>Restores the newest checkpoint that passes its checksum and fits the grid, falling back to older ones, and initialises the cell when none does.</summary>
    private async Task PrepareAsync(CellTrainer trainer, ICheckpointStore store, Device device, CancellationToken cancellationToken)
    {
        var generations = await store.ListAsync(trainer.CellIndex, cancellationToken).ConfigureAwait(false);
        foreach (int generation in generations.OrderDescending())
        {
            CellState? state = null;
            try
            {
                byte[] content = await store.ReadAsync(trainer.CellIndex, generation, cancellationToken).ConfigureAwait(false);
                state = CellState.FromBytes(content, device);
                trainer.Restore(state);
                CellWorkerLog.Resumed(_logger, _runId, _options.WorkerId, trainer.CellIndex, state.Generation);
                return;
            }
            catch (Exception error) when (error is InvalidDataException or EndOfStreamException)
            {
                state?.Dispose();
                CellWorkerLog.CheckpointUnusable(_logger, _runId, _options.WorkerId, trainer.CellIndex, generation, error);
            }
        }

        trainer.Initialise();
        CellWorkerLog.Initialised(_logger, _runId, _options.WorkerId, trainer.CellIndex);
    }

    /// <summary>Renews the lease every <see cref="CellWorkerOptions.HeartbeatInterval"/> until the cell stops. A 409 cancels the cell.</summary>
    // NOTE: the interval is configured, not derived from the lease's expires_at, because the worker's and
    // the coordinator's clocks may differ. A LeaseDuration under three intervals lets leases expire while a cell trains.
    private async Task HeartbeatLoopAsync(CellLeaseGrant lease, TimeSpan interval, CancellationTokenSource cell, LeaseLossSignal lost)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cell.Token).ConfigureAwait(false))
            {
                try
                {
                    await _client.HeartbeatAsync(_runId, lease, cell.Token).ConfigureAwait(false);
                }
                catch (LeaseLostException error)
                {
                    lost.Error = error;
                    await cell.CancelAsync().ConfigureAwait(false);
                    return;
                }
                catch (Exception error) when (error is HttpRequestException or CoordinatorException
                    || (error is TaskCanceledException && !cell.IsCancellationRequested))
                {
                    CellWorkerLog.HeartbeatFailed(_logger, _runId, _options.WorkerId, lease.Cell, error);
                }
            }
        }
        catch (OperationCanceledException) when (cell.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Finishes a cell with the neighbours' newest centers, as the embedded runner does: scores its
    /// mixture on <c>final_sample_size</c> samples when the run scores, and writes the mixture
    /// (generators, weights, manifest) and a grid of mixture samples into <paramref name="folder"/>.
    /// A neighbour without a center is left out and the other weights are scaled to sum to 1.
    /// Returns the score (<c>trainer.params.score.type</c>), or null when the run does not score.
    /// </summary>
    private static double? FinishCell(RunContext context, CellTrainer trainer, ICenterExchange exchange, string folder, CancellationToken cancellationToken)
    {
        var decoded = new List<Individual>();
        try
        {
            var generators = new Dictionary<int, Sequential>();
            foreach (int member in trainer.MixtureMembers.Where(member => member != trainer.CellIndex))
            {
                var snapshot = exchange.TryGetLatestAsync(member, cancellationToken).AsTask().GetAwaiter().GetResult();
                if (snapshot is null)
                {
                    continue;
                }

                var (generator, discriminator) = CenterCodec.Decode(snapshot, context.Device);
                discriminator.Dispose();
                decoded.Add(generator);
                generators[member] = generator.Network;
            }

            var members = trainer.MemberGenerators(generators);
            var weights = trainer.State.MixtureWeights;
            var score = context.Scorers is null ? null : ScoreWith(context, trainer, members, weights);

            var present = members
                .Select((network, index) => (Network: network, Index: index))
                .Where(member => member.Network is not null)
                .ToList();
            double total = present.Sum(member => weights[member.Index]);
            var entries = present
                .Select(member => (
                    context.Topology.CellName(trainer.MixtureMembers[member.Index]),
                    member.Network!,
                    total > 0 ? weights[member.Index] / total : 1.0 / present.Count))
                .ToList();
            var config = context.Config;
            double? tvd = score is null || double.IsNaN(score.Tvd) ? null : score.Tvd;
            MixtureFolder.Write(folder, config.Network.Name, context.Topology.CellName(trainer.CellIndex), entries,
                score?.Value, tvd, score is null ? 0 : config.Trainer.Params.Score.FinalSampleSize, config.Trainer.Params.Score.Type);
            WriteSamples(config, trainer, entries, Path.Combine(folder, SamplesFileName));
            return score?.Value;
        }
        finally
        {
            foreach (var generator in decoded)
            {
                generator.Dispose();
            }
        }
    }

    private static ScoreResult ScoreWith(RunContext context, CellTrainer trainer, IReadOnlyList<Sequential?> members, IReadOnlyList<double> weights)
    {
        int samples = context.Config.Trainer.Params.Score.FinalSampleSize;
        using var scorer = context.Scorers!.CreateScorer(samples);
        return trainer.ScoreMixture(members, weights, samples, scorer);
    }

    /// <summary>Writes <c>dataloader.sample_count</c> images of the mixture, drawn in proportion to its weights, as one PNG grid.</summary>
    private static void WriteSamples(
        LipizzanerConfig config, CellTrainer trainer, IReadOnlyList<(string Cell, Sequential Generator, double Weight)> entries, string path)
    {
        using var scope = torch.NewDisposeScope();
        int count = config.DataLoader.SampleCount;
        var center = trainer.State.CenterGenerator;
        var random = new CellRandom(CellRandom.DeriveSeed(config.General.Seed, trainer.CellIndex, SamplesPurpose));
        using var noise = new torch.Generator(CellRandom.DeriveSeed(config.General.Seed, trainer.CellIndex, SamplesPurpose));
        var assignment = MixtureSampler.AssignGenerators(entries.Select(entry => entry.Weight).ToList(), count, config.Trainer.MixtureGeneratorSamplesMode, random);
        var latent = GanSteps.Latent(count, center, noise);
        var images = MixtureSampler.Generate(entries.Select(entry => entry.Generator).ToList(), assignment, latent);
        SampleGrid.WritePng(path, images.cpu(), center.Spec.ImageSide, (int)Math.Ceiling(Math.Sqrt(count)));
    }

    private CellStore FolderStore(GridTopology topology)
    {
        var folder = new FolderCellStore(_options.CheckpointFolder!, _runId, topology);
        return new CellStore(folder, folder);
    }

    private static Task<T> OnOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>File name of the mixture's sample grid beside its manifest.</summary>
    public const string SamplesFileName = "samples.png";

    // Purpose of the random streams of the final sample grid; the trainer, the embedded runner and the run's scorers use 1 to 7.
    private const ulong SamplesPurpose = 8;

    private sealed record CellStore(ICheckpointStore Checkpoints, ICellOutputStore Outputs);

    private sealed class LeaseLossSignal
    {
        public volatile LeaseLostException? Error;
    }

    private sealed record RunContext(
        LipizzanerConfig Config,
        GridTopology Topology,
        Device Device,
        TrainingData Training,
        RunScorers? Scorers);
}
