using System.Diagnostics;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Lipizzaner.Deploy.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lipizzaner.Deploy.Tests.Chart;

/// <summary>
/// The chart's helm test Pod, run on this machine: its rendered script and test run configuration
/// against the published coordinator, one published worker that joins the current run, and a real
/// redis-server, all on 127.0.0.1. Only the ConfigMap mount (/etc/lipizzaner) is replaced by a
/// temporary folder.
/// </summary>
[Collection(PublishedServicesGroup.Name)]
public sealed class HelmTestScriptTests(PublishedServices published) : IDisposable
{
    private const string Token = "helm-test-token-5d1c0b7e9a";
    private const string RedisPassword = "helm-test-redis-8f2a61";

    private readonly string _folder = Directory.CreateTempSubdirectory("lpz-helm-test-").FullName;
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Helm_test_pod_completes_run()
    {
        published.RequireSuccess();
        await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, NullLogger.Instance, CancellationToken.None);
        var chart = await ChartRenderer.RenderValidAsync($$"""
            tests:
              timeoutSeconds: 300
              config: |
                general: { seed: 1, checkpoint_period: 1, sample_period: 0 }
                trainer: { n_iterations: 1, params: { opponent: selected, score: { enabled: false }, fitness: { fitness_sample_size: 100 } } }
                dataloader: { batch_size: 50, n_batches: 2, data_dir: "{{LipizzanerPaths.DefaultMnistDirectory}}" }
                network: { name: 4lp }
                runtime: { torch_threads: 1, device: cpu }
                distribution: { min_clients: 1, max_clients: 1 }
            """);
        var pod = chart.Get("Pod", "-test-run");
        string script = Node.List(pod.Containers.Single(), "args").Cast<string>().Single();
        string configMount = Path.Combine(_folder, "etc-lipizzaner");
        Directory.CreateDirectory(configMount);
        await File.WriteAllTextAsync(Path.Combine(configMount, "test-run.yml"), (string)Node.Key(chart.Get("ConfigMap", "-run").Content, "data", "test-run.yml")!);
        script = script.Replace("/etc/lipizzaner/", configMount + "/", StringComparison.Ordinal);

        int redisPort = PublishedServices.FreePort();
        Start("/usr/bin/redis-server", ["--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", RedisPassword], []);
        string redis = $"127.0.0.1:{redisPort},password={RedisPassword},abortConnect=false";
        int coordinatorPort = PublishedServices.FreePort();
        string coordinator = $"http://127.0.0.1:{coordinatorPort}";
        Start(published.Program("coordinator"), [], new()
        {
            ["ASPNETCORE_URLS"] = coordinator,
            ["Lipizzaner__Token"] = Token,
            ["ConnectionStrings__redis"] = redis,
        });
        await WaitForHealthAsync(coordinator);
        // No run id: the worker waits for the coordinator's current run, as the chart's workers do.
        Start(published.Program("cellworker"), [], new()
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{PublishedServices.FreePort()}",
            ["Lipizzaner__Coordinator"] = coordinator,
            ["Lipizzaner__Token"] = Token,
            ["ConnectionStrings__redis"] = redis,
            ["Lipizzaner__Worker__CheckpointFolder"] = Path.Combine(_folder, "checkpoints"),
            ["Lipizzaner__Worker__Id"] = "helm-test-worker",
            ["LIPIZZANER_CACHE"] = Path.Combine(_folder, "cache"),
        });

        string bin = Path.Combine(_folder, "bin");
        Directory.CreateDirectory(bin);
        string wrapper = Path.Combine(bin, "lipizzaner");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec '{published.Program("cli")}' \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var result = await ProcessRunner.RunAsync("bash", ["-c", script], TimeSpan.FromMinutes(6), environment: new Dictionary<string, string?>
        {
            ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
            ["LIPIZZANER_COORDINATOR"] = coordinator,
            ["LIPIZZANER_TOKEN"] = Token,
        });

        Assert.True(result.ExitCode == 0, result.AllText);
        var run = Assert.Single(System.Text.RegularExpressions.Regex.Matches(result.Output, @"submitted run ([A-Za-z0-9_-]+)")).Groups[1].Value;
        Assert.Contains($"run {run} completed", result.Output, StringComparison.Ordinal);
        Assert.True(Directory.EnumerateFiles(Path.Combine(_folder, "checkpoints"), "*", SearchOption.AllDirectories).Any(), "the worker wrote no checkpoint");
    }

    private void Start(string program, string[] arguments, Dictionary<string, string?> environment) =>
        _processes.Add(ProcessRunner.StartBackground(program, arguments, environment));

    private static async Task WaitForHealthAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(url + "/health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (stopwatch.Elapsed < TimeSpan.FromMinutes(2))
            {
            }
            catch (TaskCanceledException) when (stopwatch.Elapsed < TimeSpan.FromMinutes(2))
            {
            }

            Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), $"{url}/health did not return 200 within 2 minutes");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }
}
