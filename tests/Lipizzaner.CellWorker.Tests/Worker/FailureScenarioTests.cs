using System.Diagnostics;
using System.Text.Json;
using Lipizzaner.CellWorker.Storage;
using Lipizzaner.CellWorker.Tests.Servers;
using Lipizzaner.CellWorker.Worker;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;
using Minio;
using Minio.DataModel.Args;
using StackExchange.Redis;

namespace Lipizzaner.CellWorker.Tests.Worker;

/// <summary>
/// Whole distributed runs on real MNIST against failures: the coordinator as its own process keeping
/// its runs in a private redis-server, s3rver for the checkpoints, and cell workers in this process
/// training a 2x2 grid of small MLP GANs. Each test breaks one part mid-run and asserts that the run
/// still ends as its policy requires, with every checkpoint and no secret in any log.
/// </summary>
public sealed class FailureScenarioTests(RedisServerFixture redis, S3ServerFixture s3)
    : IClassFixture<RedisServerFixture>, IClassFixture<S3ServerFixture>
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Coordinator_restart_mid_run_continues_to_scored_mixture()
    {
        await EnsureMnistAsync();
        using var coordinator = new CoordinatorProcess(redis.Configuration);
        await coordinator.StartAsync();
        string run = await coordinator.CreateRunAsync(RunYaml(generations: 4, scored: true));
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        Task? restart = null;
        var workers = new[] { "worker-a", "worker-b" }.Select(id => Loop(coordinator, run, id, 2, bucket, logs)).ToArray();
        workers[0].GenerationCompleted += _ => restart ??= Task.Run(async () =>
        {
            coordinator.Kill();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await coordinator.StartAsync();
        });

        await RunAllAsync(workers, logs, () => restart);
        Assert.NotNull(restart);
        await restart;

        var status = await coordinator.GetAsync($"runs/{run}");
        AssertCompleted(status, generations: 4, logs, coordinator);
        Assert.All(status.GetProperty("cells").EnumerateArray(), cell => Assert.True(cell.GetProperty("score").GetDouble() > 0));
        Assert.Contains("Restored", coordinator.Output, StringComparison.Ordinal);

        var results = await coordinator.GetAsync($"runs/{run}/results");
        Assert.Equal("fid", results.GetProperty("score_type").GetString());
        double fid = results.GetProperty("score").GetDouble();
        Assert.True(double.IsFinite(fid), $"fid {fid}");
        Assert.True(fid > 0, $"fid {fid}");
        string mixture = results.GetProperty("mixture").GetString()!;
        var (x, y) = (results.GetProperty("x").GetInt32(), results.GetProperty("y").GetInt32());
        Assert.Equal($"s3://{bucket}/{run}/cells/{x}-{y}/mixture/", mixture);
        using var manifest = JsonDocument.Parse(await ReadObjectAsync(bucket, $"{run}/cells/{x}-{y}/mixture/mixture.json"));
        Assert.Equal(fid, manifest.RootElement.GetProperty("score").GetDouble(), 6);
        Assert.Equal("fid", manifest.RootElement.GetProperty("score_type").GetString());
        Assert.True(manifest.RootElement.GetProperty("generators").GetArrayLength() >= 1);
        Assert.NotEmpty(await ReadObjectAsync(bucket, $"{run}/cells/{x}-{y}/mixture/{CellWorkerLoop.SamplesFileName}"));
        AssertNoSecrets(logs.AllText + coordinator.Output);
    }

    [Fact]
    public async Task Redis_restart_mid_run_completes()
    {
        await EnsureMnistAsync();
        using var coordinator = new CoordinatorProcess(redis.Configuration);
        await coordinator.StartAsync();
        string run = await coordinator.CreateRunAsync(RunYaml(generations: 4, scored: false));
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        Task? restart = null;
        var workers = new[] { "worker-a", "worker-b" }.Select(id => Loop(coordinator, run, id, 2, bucket, logs)).ToArray();
        workers[1].GenerationCompleted += _ => restart ??= Task.Run(() => redis.RestartAsync(TimeSpan.FromSeconds(2)));

        await RunAllAsync(workers, logs, () => restart);
        Assert.NotNull(restart);
        await restart;

        AssertCompleted(await coordinator.GetAsync($"runs/{run}"), generations: 4, logs, coordinator);
        await AssertCentersAsync(run, generation: 4);
        // Redis kept nothing across its restart; the coordinator wrote its record of the run again.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        string? record = await connection.GetDatabase().HashGetAsync(RedisKeys.CoordinatorRun(run), "record");
        Assert.NotNull(record);
        Assert.Equal("completed", JsonDocument.Parse(record).RootElement.GetProperty("state").GetString());
        AssertNoSecrets(logs.AllText + coordinator.Output);
    }

    [Fact]
    public async Task S3_outage_during_checkpoints_loses_none()
    {
        await EnsureMnistAsync();
        using var coordinator = new CoordinatorProcess(redis.Configuration);
        await coordinator.StartAsync();
        string run = await coordinator.CreateRunAsync(RunYaml(generations: 3, scored: false));
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        Task? outage = null;
        var workers = new[] { "worker-a", "worker-b" }.Select(id => Loop(coordinator, run, id, 2, bucket, logs)).ToArray();
        workers[0].GenerationCompleted += _ => outage ??= Task.Run(async () =>
        {
            s3.Stop();
            await Task.Delay(TimeSpan.FromSeconds(4));
            await s3.StartAsync();
        });

        await RunAllAsync(workers, logs, () => outage);
        Assert.NotNull(outage);
        await outage;

        AssertCompleted(await coordinator.GetAsync($"runs/{run}"), generations: 3, logs, coordinator);
        using var store = S3CheckpointStore.Create(s3.ConnectionString, bucket, run, new GridTopology(2, 2), new CapturingLogger());
        for (int cell = 0; cell < 4; cell++)
        {
            Assert.Equal([1, 2, 3], await store.ListAsync(cell, CancellationToken.None));
            Assert.NotEmpty(await store.ReadAsync(cell, 3, CancellationToken.None));
        }

        Assert.Contains(logs.Entries, line => line.StartsWith("Warning: S3 write", StringComparison.Ordinal) && line.Contains($"run {run}", StringComparison.Ordinal));
        AssertNoSecrets(logs.AllText + coordinator.Output);
    }

    [Fact]
    public async Task Slow_worker_is_ended_by_straggler_policy()
    {
        await EnsureMnistAsync();
        using var coordinator = new CoordinatorProcess(redis.Configuration, new Dictionary<string, string?>
        {
            ["Lipizzaner__Distribution__FinishProportion"] = "0.75",
            ["Lipizzaner__Distribution__StragglerTimeout"] = "00:00:03",
            ["Lipizzaner__Distribution__LeaseDuration"] = "00:00:30",
        });
        await coordinator.StartAsync();
        string run = await coordinator.CreateRunAsync(RunYaml(generations: 3, scored: false));
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        var fast = Loop(coordinator, run, "worker-fast", 3, bucket, logs);
        var slow = Loop(coordinator, run, "worker-slow", 1, bucket, logs);
        // Each generation of the slow worker's cell takes 12 s longer: it would need more than 36 s in all.
        slow.GenerationCompleted += _ => Thread.Sleep(TimeSpan.FromSeconds(12));
        var clock = Stopwatch.StartNew();

        await RunAllAsync([fast, slow], logs);

        var status = await coordinator.GetAsync($"runs/{run}");
        Assert.True(status.GetProperty("state").GetString() == "completed", status.ToString() + logs.AllText);
        Assert.Contains("3 of 4 cells completed and the straggler timeout of 3 s passed", status.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var cells = status.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(3, cells.Count(cell => cell.GetProperty("state").GetString() == "completed"));
        var straggler = Assert.Single(cells, cell => cell.GetProperty("state").GetString() != "completed");
        Assert.Equal("worker-slow", straggler.GetProperty("worker_id").GetString());
        Assert.True(straggler.GetProperty("generation").GetInt32() < 3, status.ToString() + logs.AllText);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(36), $"the run took {clock.Elapsed}; the slow cell alone needs more than 36 s");
        Assert.Contains(logs.Entries, line => line.Contains("worker worker-slow lost the lease of cell", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stopped_run_resumes_with_fewer_workers()
    {
        await EnsureMnistAsync();
        using var coordinator = new CoordinatorProcess(redis.Configuration, new Dictionary<string, string?>
        {
            ["Lipizzaner__Distribution__MaxDeadCells"] = "1",
            ["Lipizzaner__Distribution__LeaseDuration"] = "00:00:04",
        });
        await coordinator.StartAsync();
        string run = await coordinator.CreateRunAsync(RunYaml(generations: 3, scored: false));
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        using var limit = new CancellationTokenSource(RunLimit);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
        var first = new[] { "worker-a", "worker-b" }.Select(id => Loop(coordinator, run, id, 2, bucket, logs)).ToArray();
        var finished = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        foreach (var worker in first)
        {
            // Both workers stop once every cell finished (and checkpointed) its first generation. A fast
            // cell can finish two generations before a slow one finishes its first, so cells are counted.
            worker.GenerationCompleted += record =>
            {
                if (finished.TryAdd(record.CellIndex, true) && finished.Count == 4)
                {
                    stop.Cancel();
                }
            };
        }

        var stopped = first.Select(worker => worker.RunAsync(stop.Token)).ToArray();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(stopped));
        var aborted = await WaitForStateAsync(coordinator, run, "aborted", TimeSpan.FromSeconds(30));
        Assert.Contains("dead at once", aborted.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var (code, body) = await coordinator.PostAsync($"runs/{run}/resume");
        Assert.True(code == 200, body);
        var current = await coordinator.GetAsync("runs/current");
        Assert.Equal(run, current.GetProperty("run_id").GetString());
        await RunAllAsync([Loop(coordinator, run, "worker-c", 4, bucket, logs)], logs);

        AssertCompleted(await coordinator.GetAsync($"runs/{run}"), generations: 3, logs, coordinator);
        Assert.Equal(4, logs.Entries.Count(line => line.Contains("worker worker-c resumes cell", StringComparison.Ordinal)));
        AssertNoSecrets(logs.AllText + coordinator.Output);
    }

    [Fact]
    public async Task Folder_checkpoints_replace_S3()
    {
        await EnsureMnistAsync();
        using var coordinator = new CoordinatorProcess(redis.Configuration);
        await coordinator.StartAsync();
        string run = await coordinator.CreateRunAsync(RunYaml(generations: 2, scored: false));
        string folder = Directory.CreateTempSubdirectory("lipizzaner-shared-").FullName;
        try
        {
            var logs = new CapturingLogger();
            var workers = new[] { "worker-a", "worker-b" }
                .Select(id => Loop(coordinator, run, id, 2, bucket: null, logs, checkpointFolder: folder))
                .ToArray();

            await RunAllAsync(workers, logs);

            AssertCompleted(await coordinator.GetAsync($"runs/{run}"), generations: 2, logs, coordinator);
            var topology = new GridTopology(2, 2);
            for (int cell = 0; cell < 4; cell++)
            {
                string cellFolder = Path.Combine(folder, run, $"cell-{topology.CellName(cell)}");
                Assert.True(File.Exists(Path.Combine(cellFolder, "gen-000002.ckpt")), cellFolder);
                Assert.True(File.Exists(Path.Combine(cellFolder, "mixture", "mixture.json")));
                Assert.True(File.Exists(Path.Combine(cellFolder, "mixture", CellWorkerLoop.SamplesFileName)));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string RunYaml(int generations, bool scored) => $$"""
        general: { seed: 11, checkpoint_period: 1, sample_period: 0 }
        grid: { width: 2, height: 2 }
        trainer:
          n_iterations: {{generations}}
          params:
            opponent: selected
            score: { enabled: {{(scored ? "true" : "false")}}, score_sample_size: 100, final_sample_size: 200 }
            fitness: { fitness_sample_size: 100 }
        dataloader: { batch_size: 50, n_batches: 2, sample_count: 16 }
        network: { name: 4lp }
        runtime: { torch_threads: 1, device: cpu }
        distribution: { heartbeat_interval: 1 }
        """;

    private CellWorkerLoop Loop(
        CoordinatorProcess coordinator, string run, string workerId, int capacity, string? bucket, CapturingLogger logs, string? checkpointFolder = null) =>
        new(coordinator.Client(workerId), run, new CellWorkerOptions
        {
            WorkerId = workerId,
            Capacity = capacity,
            RedisConfiguration = redis.Configuration,
            S3ConnectionString = checkpointFolder is null ? s3.ConnectionString : null,
            CheckpointFolder = checkpointFolder,
            CheckpointBucket = bucket ?? "unused",
            PollInterval = TimeSpan.FromMilliseconds(200),
        }, logs);

    /// <summary>Runs the workers to the end of the run. <paramref name="breakage"/> returns the task that breaks a server; when it fails, so does the test, at once.</summary>
    private static async Task RunAllAsync(IEnumerable<CellWorkerLoop> workers, CapturingLogger logs, Func<Task?>? breakage = null)
    {
        using var limit = new CancellationTokenSource(RunLimit);
        var run = Task.WhenAll(workers.Select(worker => worker.RunAsync(limit.Token)));
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(500)));
            if (breakage?.Invoke() is { IsFaulted: true } failed)
            {
                await limit.CancelAsync();
                await failed;
            }
        }

        try
        {
            await run;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Assert.Fail($"The workers ran into the time limit of {RunLimit}. The last log entries:{Environment.NewLine}{logs.Tail(80)}");
        }
    }

    private static void AssertCompleted(JsonElement status, int generations, CapturingLogger logs, CoordinatorProcess coordinator)
    {
        Assert.True(status.GetProperty("state").GetString() == "completed",
            $"{status}{Environment.NewLine}{logs.AllText}{Environment.NewLine}{coordinator.Output}");
        Assert.All(status.GetProperty("cells").EnumerateArray(), cell =>
        {
            Assert.Equal("completed", cell.GetProperty("state").GetString());
            Assert.Equal(generations, cell.GetProperty("generation").GetInt32());
        });
        var failures = logs.Entries.Where(line => line.Contains("failed on cell", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private void AssertNoSecrets(string text)
    {
        Assert.DoesNotContain(redis.Password, text, StringComparison.Ordinal);
        Assert.DoesNotContain(s3.SecretKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(CoordinatorProcess.Token, text, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> WaitForStateAsync(CoordinatorProcess coordinator, string run, string state, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await coordinator.GetAsync($"runs/{run}");
            if (status.GetProperty("state").GetString() == state || clock.Elapsed > limit)
            {
                Assert.Equal(state, status.GetProperty("state").GetString());
                return status;
            }

            await Task.Delay(200);
        }
    }

    private async Task AssertCentersAsync(string run, int generation)
    {
        var topology = new GridTopology(2, 2);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var database = connection.GetDatabase();
        for (int cell = 0; cell < topology.CellCount; cell++)
        {
            var (x, y) = topology.Coordinates(cell);
            var stored = await database.HashGetAsync(RedisKeys.Center(run, x, y), RedisKeys.GenerationField);
            Assert.True(stored.HasValue, $"no center for cell ({x},{y})");
            Assert.Equal(generation, (int)stored);
        }
    }

    private async Task<byte[]> ReadObjectAsync(string bucket, string name)
    {
        using var client = new MinioClient().WithEndpoint("127.0.0.1", s3.Port).WithCredentials(s3.AccessKey, s3.SecretKey).Build();
        using var buffer = new MemoryStream();
        await client.GetObjectAsync(new GetObjectArgs().WithBucket(bucket).WithObject(name)
            .WithCallbackStream(async (stream, token) => await stream.CopyToAsync(buffer, token)));
        return buffer.ToArray();
    }

    private static async Task EnsureMnistAsync() =>
        await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, new CapturingLogger(), CancellationToken.None);

    private static string NewBucket() => "run-" + Guid.NewGuid().ToString("N")[..12];
}
