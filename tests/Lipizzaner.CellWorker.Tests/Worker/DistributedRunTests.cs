using System.Text;
using Lipizzaner.CellWorker.Storage;
using Lipizzaner.CellWorker.Tests.Servers;
using Lipizzaner.CellWorker.Worker;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Lipizzaner.CellWorker.Tests.Worker;

/// <summary>
/// Whole distributed runs on this machine: the coordinator in memory, a private redis-server and
/// s3rver on loopback, and two cell workers of capacity 2 training a 2x2 grid of small MLP GANs on
/// MNIST or on chest X-rays.
/// </summary>
public sealed class DistributedRunTests(RedisServerFixture redis, S3ServerFixture s3)
    : IClassFixture<RedisServerFixture>, IClassFixture<S3ServerFixture>
{
    private const string RunYaml = """
        general: { seed: 5, checkpoint_period: 1, sample_period: 0 }
        grid: { width: 2, height: 2 }
        trainer:
          n_iterations: 2
          params:
            opponent: selected
            score: { enabled: false }
            fitness: { fitness_sample_size: 100 }
        dataloader: { batch_size: 50, n_batches: 2 }
        network: { name: 4lp }
        runtime: { torch_threads: 1, device: cpu }
        """;

    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Two_workers_complete_2x2_run()
    {
        await EnsureMnistAsync();
        await using var coordinator = new CoordinatorHost(leaseDuration: TimeSpan.FromSeconds(30));
        string run = await coordinator.CreateRunAsync(RunYaml);
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        // A leftover checkpoint of cell 0 that is not a cell state. The worker must skip it and start the cell from generation 0.
        using (var store = S3CheckpointStore.Create(s3.ConnectionString, bucket, run, new GridTopology(2, 2), new CapturingLogger()))
        {
            await store.WriteAsync(0, 1, Encoding.UTF8.GetBytes("not a cell checkpoint"), CancellationToken.None);
        }

        await RunTwoWorkersAsync(coordinator, run, bucket, logs);

        var status = await coordinator.Client().GetRunAsync(run, CancellationToken.None);
        Assert.True(status.State == "completed", $"run {status.State}: {status.Reason}{Environment.NewLine}{logs.AllText}");
        Assert.Equal(4, status.Cells.Count);
        Assert.All(status.Cells, cell =>
        {
            Assert.Equal("completed", cell.State);
            Assert.Equal(2, cell.Generation);
            Assert.Null(cell.Score);
        });
        Assert.Equal(2, status.Cells.Select(cell => cell.WorkerId).Distinct().Count());

        await AssertCentersAsync(run, new GridTopology(2, 2), generation: 2);
        await AssertCheckpointsAsync(run, bucket, new GridTopology(2, 2), [1, 2]);
        var workerALines = logs.Entries.Where(line => line.Contains("worker worker-a", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(workerALines);
        Assert.All(workerALines, line => Assert.Contains($"Run {run}", line, StringComparison.Ordinal));
        Assert.Contains(workerALines, line => line.Contains("finished generation 2 of cell", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, line => line.Contains("checkpoint of cell 0 at generation 1 unusable", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, line => line.Contains("starts cell 0 from generation 0", StringComparison.Ordinal));
        var failures = logs.Entries.Where(line => line.Contains("failed on cell", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task Stopped_worker_cells_resume_elsewhere()
    {
        await EnsureMnistAsync();
        await using var coordinator = new CoordinatorHost(leaseDuration: TimeSpan.FromSeconds(4));
        string run = await coordinator.CreateRunAsync(RunYaml);
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        using var limit = new CancellationTokenSource(RunLimit);
        using var stopA = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);

        var workerA = Loop(coordinator, run, "worker-a", bucket, logs, heartbeat: TimeSpan.FromSeconds(1));
        var workerB = Loop(coordinator, run, "worker-b", bucket, logs, heartbeat: TimeSpan.FromSeconds(1));
        // Worker A stops as soon as one of its cells finished (and checkpointed) its first generation.
        workerA.GenerationCompleted += _ => stopA.Cancel();

        var runA = workerA.RunAsync(stopA.Token);
        var runB = workerB.RunAsync(limit.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runA);
        Assert.False(limit.IsCancellationRequested, "worker A should stop on its own signal, not the time limit");
        try
        {
            await runB;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Assert.Fail($"Worker B ran into the time limit. The last log entries:{Environment.NewLine}{logs.Tail(80)}");
        }

        var status = await coordinator.Client().GetRunAsync(run, CancellationToken.None);
        Assert.True(status.State == "completed", $"run {status.State}: {status.Reason}{Environment.NewLine}{logs.AllText}");
        Assert.All(status.Cells, cell =>
        {
            Assert.Equal("completed", cell.State);
            Assert.Equal(2, cell.Generation);
            Assert.Equal("worker-b", cell.WorkerId);
        });
        Assert.Contains(logs.Entries, line => line.Contains("worker worker-b resumes cell", StringComparison.Ordinal)
            && line.Contains("after generation 1", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, line => line.Contains("worker worker-a completed", StringComparison.Ordinal));
        await AssertCentersAsync(run, new GridTopology(2, 2), generation: 2);
    }

    [Fact]
    public async Task Lost_lease_response_is_not_leased_twice()
    {
        await EnsureMnistAsync();
        await using var coordinator = new CoordinatorHost(leaseDuration: TimeSpan.FromSeconds(30));
        string run = await coordinator.CreateRunAsync(RunYaml);
        string bucket = NewBucket();
        var logs = new CapturingLogger();
        using var limit = new CancellationTokenSource(RunLimit);
        var lossy = new LoseFirstLeaseResponse();

        // worker-a's client loses the response to its first granted lease and retries the request.
        var workerA = Loop(coordinator, run, "worker-a", bucket, logs, TimeSpan.FromSeconds(5), new CoordinatorClient(coordinator.CreateDefaultClient(lossy), CoordinatorHost.Token));
        var workerB = Loop(coordinator, run, "worker-b", bucket, logs, TimeSpan.FromSeconds(5));
        await Task.WhenAll(workerA.RunAsync(limit.Token), workerB.RunAsync(limit.Token));

        var status = await coordinator.Client().GetRunAsync(run, CancellationToken.None);
        Assert.True(status.State == "completed", $"run {status.State}: {status.Reason}{Environment.NewLine}{logs.AllText}");
        Assert.NotNull(lossy.LostCell);
        Assert.Equal("worker-a", status.Cells.Single(cell => cell.Cell == lossy.LostCell).WorkerId);
        // Without the retry getting the lost lease back, that cell would wait for its lease to expire and be leased again at epoch 2.
        var leases = logs.Entries.Where(line => line.Contains(" leased cell ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, leases.Count);
        Assert.All(leases, line => Assert.Contains("at epoch 1", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Image_folder_run_scores_cells_by_kid()
    {
        string images = CopyPositiveImages(24);
        try
        {
            string yaml = $$"""
                general: { seed: 5, checkpoint_period: 1, sample_period: 0 }
                grid: { width: 2, height: 2 }
                trainer:
                  n_iterations: 2
                  params:
                    opponent: selected
                    score: { enabled: true, type: kid, score_sample_size: 12, final_sample_size: 16, kid_subsets: 10, kid_subset_size: 10 }
                    fitness: { fitness_sample_size: 8 }
                dataloader: { dataset_name: image_folder, path: "{{images}}", batch_size: 8, n_batches: 2, sample_count: 4 }
                network: { name: 4lp }
                runtime: { torch_threads: 1, device: cpu }
                """;
            await using var coordinator = new CoordinatorHost(leaseDuration: TimeSpan.FromSeconds(30));
            string run = await coordinator.CreateRunAsync(yaml);
            string bucket = NewBucket();
            var logs = new CapturingLogger();

            await RunTwoWorkersAsync(coordinator, run, bucket, logs);

            var status = await coordinator.Client().GetRunAsync(run, CancellationToken.None);
            Assert.True(status.State == "completed", $"run {status.State}: {status.Reason}{Environment.NewLine}{logs.AllText}");
            Assert.All(status.Cells, cell =>
            {
                Assert.Equal("completed", cell.State);
                Assert.NotNull(cell.Score);
                Assert.True(double.IsFinite(cell.Score.Value), $"cell {cell.Cell} KID {cell.Score}");
            });

            using var results = await coordinator.GetJsonAsync($"/runs/{run}/results");
            var root = results.RootElement;
            Assert.Equal("kid", root.GetProperty("score_type").GetString());
            int best = root.GetProperty("best_cell").GetInt32();
            // KID is lower-is-better, so the best cell has the smallest score of all cells.
            Assert.Equal(status.Cells.Min(cell => cell.Score!.Value), root.GetProperty("score").GetDouble());
            Assert.Equal(status.Cells.Single(cell => cell.Cell == best).Score, root.GetProperty("score").GetDouble());
            Assert.StartsWith("s3://", root.GetProperty("mixture").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(images, recursive: true);
        }
    }

    /// <summary>
    /// Copies the first <paramref name="count"/> COVID-19-positive chest X-rays (file name order) from
    /// <c>shared/datasets/covid19-cxr/positive</c>, in the nearest folder above the test binaries, to a new temporary folder.
    /// </summary>
    private static string CopyPositiveImages(int count)
    {
        string? source = null;
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null && source is null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "shared", "datasets", "covid19-cxr", "positive");
            if (Directory.Exists(candidate))
            {
                source = candidate;
            }
        }

        Assert.True(source is not null, $"no shared/datasets/covid19-cxr/positive folder above {AppContext.BaseDirectory}");
        string target = Directory.CreateTempSubdirectory("lpz-cxr-").FullName;
        foreach (string file in Directory.GetFiles(source).Order(StringComparer.Ordinal).Take(count))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    /// <summary>Runs workers worker-a and worker-b (capacity 2, heartbeat every 5 s) until the run ends, at most <see cref="RunLimit"/>.</summary>
    private async Task RunTwoWorkersAsync(CoordinatorHost coordinator, string run, string bucket, ILogger logs)
    {
        using var limit = new CancellationTokenSource(RunLimit);
        var workers = new[] { "worker-a", "worker-b" }
            .Select(id => Loop(coordinator, run, id, bucket, logs, heartbeat: TimeSpan.FromSeconds(5)).RunAsync(limit.Token))
            .ToArray();
        await Task.WhenAll(workers);
    }

    private CellWorkerLoop Loop(
        CoordinatorHost coordinator, string run, string workerId, string bucket, ILogger logger, TimeSpan heartbeat, CoordinatorClient? client = null) =>
        new(client ?? coordinator.Client(), run, new CellWorkerOptions
        {
            WorkerId = workerId,
            Capacity = 2,
            RedisConfiguration = redis.Configuration,
            S3ConnectionString = s3.ConnectionString,
            CheckpointBucket = bucket,
            HeartbeatInterval = heartbeat,
            PollInterval = TimeSpan.FromMilliseconds(200),
        }, logger);

    private async Task AssertCentersAsync(string run, GridTopology topology, int generation)
    {
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

    private async Task AssertCheckpointsAsync(string run, string bucket, GridTopology topology, int[] generations)
    {
        using var store = S3CheckpointStore.Create(s3.ConnectionString, bucket, run, topology, new CapturingLogger());
        for (int cell = 0; cell < topology.CellCount; cell++)
        {
            Assert.Equal(generations, await store.ListAsync(cell, CancellationToken.None));
        }
    }

    private static async Task EnsureMnistAsync() =>
        await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, new CapturingLogger(), CancellationToken.None);

    private static string NewBucket() => "run-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Passes requests on, but drops the first granted lease's response and throws, as a connection lost on the way back would.</summary>
    private sealed class LoseFirstLeaseResponse : DelegatingHandler
    {
        private int _lost;

        public int? LostCell { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            bool leaseGranted = request.Method == HttpMethod.Post
                && request.RequestUri!.AbsolutePath.EndsWith("/leases", StringComparison.Ordinal)
                && response.StatusCode == System.Net.HttpStatusCode.OK;
            if (!leaseGranted || Interlocked.Exchange(ref _lost, 1) == 1)
            {
                return response;
            }

            using (var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)))
            {
                LostCell = body.RootElement.GetProperty("cell").GetInt32();
            }

            response.Dispose();
            throw new HttpRequestException("The lease response was lost on its way back.");
        }
    }

    /// <summary>In-memory coordinator on the system clock. It needs 4 cells of capacity, waits for every cell and tolerates 4 dead cells.</summary>
    private sealed class CoordinatorHost(TimeSpan leaseDuration) : WebApplicationFactory<Program>
    {
        public const string Token = "tok-9d2f61c8a4be4e07b3c5";

        public CoordinatorClient Client() => new(CreateClient(), Token);

        public async Task<string> CreateRunAsync(string yaml)
        {
            using var http = AuthorizedClient();
            using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
            using var response = await http.PostAsync(new Uri("/runs", UriKind.Relative), content);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.GetProperty("run_id").GetString()!;
        }

        public async Task<System.Text.Json.JsonDocument> GetJsonAsync(string path)
        {
            using var http = AuthorizedClient();
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
            return System.Text.Json.JsonDocument.Parse(body);
        }

        private HttpClient AuthorizedClient()
        {
            var http = CreateClient();
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
            return http;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Lipizzaner:Token", Token);
            builder.UseSetting("Lipizzaner:Distribution:MinClients", "4");
            builder.UseSetting("Lipizzaner:Distribution:MaxClients", "4");
            builder.UseSetting("Lipizzaner:Distribution:RegistrationTimeout", "00:01:00");
            builder.UseSetting("Lipizzaner:Distribution:FinishProportion", "1");
            builder.UseSetting("Lipizzaner:Distribution:StragglerTimeout", "00:01:00");
            builder.UseSetting("Lipizzaner:Distribution:MaxDeadCells", "4");
            builder.UseSetting("Lipizzaner:Distribution:LeaseDuration", leaseDuration.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Lipizzaner:Distribution:PolicyInterval", "00:00:01");
            builder.ConfigureLogging(logging => logging.ClearProviders());
        }
    }
}
