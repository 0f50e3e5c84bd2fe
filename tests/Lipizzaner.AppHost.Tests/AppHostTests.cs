using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lipizzaner.AppHost.Tests;

/// <summary>
/// Tests of the app model on this machine, where Redis and S3 run as local executables: the services
/// start and become healthy, and a whole submitted run trains through Redis and S3 to a scored mixture.
/// The container mode is checked up to the container engine, which this machine lacks.
/// </summary>
public sealed class AppHostTests
{
    private const string TinyRun = """
        general: { seed: 3, checkpoint_period: 1, sample_period: 0 }
        trainer:
          n_iterations: 2
          params:
            opponent: selected
            score: { enabled: true, score_sample_size: 100, final_sample_size: 200 }
            fitness: { fitness_sample_size: 100 }
        dataloader: { batch_size: 50, n_batches: 2, sample_count: 16 }
        network: { name: 4lp }
        runtime: { torch_threads: 1, device: cpu }
        distribution: { min_clients: 4, max_clients: 4, lease_duration: 60, heartbeat_interval: 5 }
        """;

    [Fact]
    public async Task Coordinator_becomes_healthy()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lipizzaner_AppHost>(
            ["Lipizzaner:Workers=0", "Lipizzaner:SubmitOnStart=false", "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true"], limit.Token);
        await using var app = await builder.BuildAsync(limit.Token);
        await app.StartAsync(limit.Token);

        await app.ResourceNotifications.WaitForResourceHealthyAsync("coordinator", limit.Token);

        using var http = app.CreateHttpClient("coordinator", "http");
        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative), limit.Token);
        Assert.True(response.IsSuccessStatusCode, $"GET /health returned {(int)response.StatusCode}");
        await app.ResourceNotifications.WaitForResourceAsync("redis", KnownResourceStates.Running, limit.Token);
        await app.ResourceNotifications.WaitForResourceAsync("minio", KnownResourceStates.Running, limit.Token);
    }

    [Fact]
    public async Task Submitted_run_trains_to_scored_mixture()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        string config = Path.Combine(Directory.CreateTempSubdirectory("lipizzaner-apphost-test-").FullName, "tiny.yml");
        await File.WriteAllTextAsync(config, TinyRun, limit.Token);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lipizzaner_AppHost>(
            ["Lipizzaner:Workers=2", "Lipizzaner:WorkerCapacity=2", $"Lipizzaner:RunConfig={config}", "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true"],
            limit.Token);
        await using var app = await builder.BuildAsync(limit.Token);
        var submitLogs = new List<string>();
        _ = Task.Run(async () =>
        {
            await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync("submit").WithCancellation(limit.Token))
            {
                lock (submitLogs)
                {
                    submitLogs.AddRange(batch.Select(line => line.Content));
                }
            }
        }, limit.Token);
        await app.StartAsync(limit.Token);

        var submitted = await app.ResourceNotifications.WaitForResourceAsync(
            "submit", resource => resource.Snapshot.State?.Text == KnownResourceStates.Finished || resource.Snapshot.ExitCode is not null, limit.Token);
        if (submitted.Snapshot.ExitCode != 0)
        {
            // Its last lines may arrive after the exit code.
            await Task.Delay(TimeSpan.FromSeconds(3), limit.Token);
        }

        lock (submitLogs)
        {
            Assert.True(submitted.Snapshot.ExitCode == 0, $"lipizzaner submit exited with {submitted.Snapshot.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, submitLogs)}");
        }

        using var http = app.CreateHttpClient("coordinator", "http");
        var runs = await http.GetFromJsonAsync<JsonElement>(new Uri("/runs", UriKind.Relative), limit.Token);
        string run = Assert.Single(runs.EnumerateArray()).GetProperty("run_id").GetString()!;

        JsonElement status;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
            status = await http.GetFromJsonAsync<JsonElement>(new Uri($"/runs/{run}", UriKind.Relative), limit.Token);
        }
        while (status.GetProperty("state").GetString() is "pending" or "running");

        Assert.True(status.GetProperty("state").GetString() == "completed", status.ToString());
        Assert.Equal(new[] { 2, 2 }, new[] { status.GetProperty("grid").GetProperty("width").GetInt32(), status.GetProperty("grid").GetProperty("height").GetInt32() });
        var results = await http.GetFromJsonAsync<JsonElement>(new Uri($"/runs/{run}/results", UriKind.Relative), limit.Token);
        double fid = results.GetProperty("score").GetDouble();
        Assert.Equal("fid", results.GetProperty("score_type").GetString());
        Assert.True(double.IsFinite(fid), results.ToString());
        Assert.True(fid > 0, results.ToString());
        Assert.StartsWith($"s3://lipizzaner-checkpoints/{run}/cells/", results.GetProperty("mixture").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Container_mode_uses_pinned_images()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lipizzaner_AppHost>(
            ["Lipizzaner:Resources=containers", "Lipizzaner:Workers=3", "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true"]);
        await using var app = await builder.BuildAsync();

        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var images = model.Resources.OfType<ContainerResource>()
            .ToDictionary(resource => resource.Name, resource => Assert.Single(resource.Annotations.OfType<ContainerImageAnnotation>()));
        Assert.Equal(["minio", "redis"], images.Keys.Order());
        Assert.All(images.Values, image => Assert.False(string.IsNullOrEmpty(image.Tag) || image.Tag == "latest", $"{image.Image} is not pinned"));
        Assert.Equal(3, model.Resources.OfType<ProjectResource>().Count(resource => resource.Name.StartsWith("worker-", StringComparison.Ordinal)));
        Assert.Contains(model.Resources, resource => resource.Name == "submit");
        Assert.DoesNotContain(model.Resources.OfType<ExecutableResource>(), resource => resource.Name is "redis" or "minio");
    }
}
