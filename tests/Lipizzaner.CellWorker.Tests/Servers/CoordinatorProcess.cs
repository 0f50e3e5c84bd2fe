using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Worker;

namespace Lipizzaner.CellWorker.Tests.Servers;

/// <summary>
/// The coordinator as its own process (the executable built beside these tests) on a fixed loopback
/// port, keeping its runs in the given Redis, so a test can kill it and start it again on the same port.
/// Everything it prints is kept, for failure messages and for asserting that no secret is logged.
/// </summary>
internal sealed class CoordinatorProcess : IDisposable
{
    private readonly Dictionary<string, string?> _environment;
    private readonly StringBuilder _previousOutput = new();
    private ChildProcess? _process;

    public CoordinatorProcess(string redisConfiguration, IReadOnlyDictionary<string, string?>? settings = null)
    {
        Port = ChildProcess.FreeLoopbackPort();
        _environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__redis"] = redisConfiguration,
            ["Lipizzaner__Token"] = Token,
            ["Lipizzaner__Distribution__MinClients"] = "4",
            ["Lipizzaner__Distribution__MaxClients"] = "4",
            ["Lipizzaner__Distribution__RegistrationTimeout"] = "00:02:00",
            ["Lipizzaner__Distribution__FinishProportion"] = "1",
            ["Lipizzaner__Distribution__StragglerTimeout"] = "00:01:00",
            ["Lipizzaner__Distribution__MaxDeadCells"] = "4",
            ["Lipizzaner__Distribution__LeaseDuration"] = "00:00:06",
            ["Lipizzaner__Distribution__PolicyInterval"] = "00:00:00.500",
            ["Logging__LogLevel__Default"] = "Information",
            // The coordinator exports no telemetry in tests.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _environment[key] = value;
        }
    }

    public const string Token = "tok-process-51c7e0a2b9d84f16";

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>What every start of the coordinator printed, in order.</summary>
    public string Output => _previousOutput + (_process?.AllOutput ?? "");

    public async Task StartAsync()
    {
        string executable = Path.Combine(AppContext.BaseDirectory, "Lipizzaner.Coordinator");
        var process = ChildProcess.Start(executable, [], AppContext.BaseDirectory, _environment);
        _process = process;
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var response = await http.GetAsync(new Uri("health", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        string output = process.RecentOutput;
        Kill();
        throw new InvalidOperationException($"The coordinator on port {Port} did not become healthy within 60 s. Its output:\n{output}");
    }

    /// <summary>Kills the coordinator by its PID, as a crash would, keeping what it printed.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        _process.Stop();
        _previousOutput.AppendLine(_process.AllOutput);
        _process.Dispose();
        _process = null;
    }

    /// <summary>A worker-side client with quick retries, which rides out a coordinator restart of a few seconds.</summary>
    public CoordinatorClient Client(string workerId) =>
        new(new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) }, Token,
            new RetryOptions
            {
                MaxRetryAttempts = 200,
                RetryDelay = TimeSpan.FromMilliseconds(100),
                MaxRetryDelay = TimeSpan.FromMilliseconds(500),
                AttemptTimeout = TimeSpan.FromSeconds(10),
                TotalTimeout = TimeSpan.FromSeconds(90),
            },
            workerId: workerId);

    public async Task<string> CreateRunAsync(string yaml)
    {
        using var http = new HttpClient { BaseAddress = Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        using var response = await http.PostAsync(new Uri("runs", UriKind.Relative), content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("run_id").GetString()!;
    }

    /// <summary>POSTs to the run API with the token and returns the status code and body.</summary>
    public async Task<(int Status, string Body)> PostAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), null);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = Address };
        string body = await http.GetStringAsync(new Uri(path, UriKind.Relative));
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static string Seconds(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    public void Dispose() => Kill();
}
