using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lipizzaner.Coordinator.Tests;

/// <summary>
/// The coordinator in memory with a fake clock, captured logs and test settings: 4 cells of
/// capacity, a 2x2 grid, 30 s leases, a 60 s straggler timeout and a 5 s policy interval.
/// </summary>
public sealed class CoordinatorFactory : WebApplicationFactory<Program>
{
    public const string Token = "tok-7c1e94b2d05a4f3e";

    public const string RunYaml = """
        grid:
          width: 2
          height: 2
        trainer:
          n_iterations: 3
        """;

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Lipizzaner:Token"] = Token,
        ["Lipizzaner:Distribution:MinClients"] = "4",
        ["Lipizzaner:Distribution:MaxClients"] = "4",
        ["Lipizzaner:Distribution:RegistrationTimeout"] = "00:01:00",
        ["Lipizzaner:Distribution:FinishProportion"] = "0.75",
        ["Lipizzaner:Distribution:StragglerTimeout"] = "00:01:00",
        ["Lipizzaner:Distribution:MaxDeadCells"] = "1",
        ["Lipizzaner:Distribution:LeaseDuration"] = "00:00:30",
        ["Lipizzaner:Distribution:MaxAspectRatio"] = "2",
        ["Lipizzaner:Distribution:PolicyInterval"] = "00:00:05",
    };

    public CoordinatorFactory(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public LogCapture Logs { get; } = new();

    public HttpClient CreateAuthorizedClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
    }
}

/// <summary>Every log line of the host, formatted, with its exception.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}

/// <summary>Calls of the coordinator's API, with snake_case JSON bodies.</summary>
public static class Api
{
    public static async Task<string> CreateRunAsync(this HttpClient client)
    {
        using var content = new StringContent(CoordinatorFactory.RunYaml, Encoding.UTF8, "application/yaml");
        using var response = await client.PostAsync(new Uri("/runs", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("run_id").GetString()!;
    }

    public static async Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        await client.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);

    public static async Task<JsonElement> PostOkAsync(this HttpClient client, string path, object body)
    {
        using var response = await client.PostJsonAsync(path, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task RegisterAsync(this HttpClient client, string run, string worker, int capacity = 1) =>
        await client.PostOkAsync($"/runs/{run}/workers", new { worker_id = worker, capacity });

    public static async Task<JsonElement> LeaseAsync(this HttpClient client, string run, string worker) =>
        await client.PostOkAsync($"/runs/{run}/leases", new { worker_id = worker });

    public static async Task<JsonElement> GetRunAsync(this HttpClient client, string run) =>
        await client.GetFromJsonAsync<JsonElement>(new Uri($"/runs/{run}", UriKind.Relative));

    /// <summary>Waits (real time, 10 s at most) for the policy loop to move the run to <paramref name="state"/>.</summary>
    public static async Task<JsonElement> WaitForStateAsync(this HttpClient client, string run, string state)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var view = await client.GetRunAsync(run);
            if (view.GetProperty("state").GetString() == state || watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Equal(state, view.GetProperty("state").GetString());
                return view;
            }

            await Task.Delay(20);
        }
    }
}
