using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace Lipizzaner.Benchmarks;

/// <summary>
/// Time the coordinator needs to register workers and lease them every cell of a large grid: the
/// coordinator runs as its own process (the executable built beside this program) on 127.0.0.1,
/// once keeping its runs in memory and once in a redis-server, and <c>cells</c> simulated workers of
/// capacity 1 register and then lease one cell each, 16 requests at a time, over HTTP. The baseline,
/// measured in the same run against the same process, is a GET /health round trip.
/// </summary>
public static class CoordinatorBenchmark
{
    private const string Token = "benchmark-token-4f1b2c";
    private const int Concurrency = 16;

    public static async Task RunAsync(int cells)
    {
        using var redis = RedisProcess.Start();
        await MeasureAsync(cells, redisConfiguration: null);
        await MeasureAsync(cells, redis.Configuration);
    }

    private static async Task MeasureAsync(int cells, string? redisConfiguration)
    {
        int port = FreePort();
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Lipizzaner.Coordinator"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Lipizzaner__Token"] = Token;
        start.Environment["Lipizzaner__Distribution__MinClients"] = cells.ToString(CultureInfo.InvariantCulture);
        start.Environment["Lipizzaner__Distribution__MaxClients"] = cells.ToString(CultureInfo.InvariantCulture);
        start.Environment["Lipizzaner__Distribution__MaxAspectRatio"] = "4";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        if (redisConfiguration is not null)
        {
            start.Environment["ConnectionStrings__redis"] = redisConfiguration;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The coordinator did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            await WaitHealthyAsync(http);

            var health = await TimeCallsAsync(cells, _ => http.GetAsync(new Uri("health", UriKind.Relative)));
            using var content = new StringContent("trainer: { n_iterations: 10 }\n", Encoding.UTF8, "application/yaml");
            using var created = await http.PostAsync(new Uri("runs", UriKind.Relative), content);
            created.EnsureSuccessStatusCode();
            string run = (await created.Content.ReadFromJsonAsync<Dictionary<string, object>>())!["run_id"].ToString()!;

            var register = Stopwatch.StartNew();
            var registrations = await TimeCallsAsync(cells, index =>
                http.PostAsJsonAsync(new Uri($"runs/{run}/workers", UriKind.Relative), new Dictionary<string, object> { ["worker_id"] = $"w{index}", ["capacity"] = 1 }));
            register.Stop();
            var lease = Stopwatch.StartNew();
            var leases = await TimeCallsAsync(cells, index =>
                http.PostAsJsonAsync(new Uri($"runs/{run}/leases", UriKind.Relative), new Dictionary<string, object> { ["worker_id"] = $"w{index}" }));
            lease.Stop();

            using var status = await http.GetAsync(new Uri($"runs/{run}", UriKind.Relative));
            string body = await status.Content.ReadAsStringAsync();
            int leased = CountOccurrences(body, "\"state\":\"leased\"");
            string store = redisConfiguration is null ? "in memory" : "in Redis";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"coordinator, runs {store}: {cells} registrations in {register.Elapsed.TotalSeconds:F2} s (median {Median(registrations):F1} ms, p95 {Percentile(registrations, 0.95):F1} ms), "
                + $"{cells} leases in {lease.Elapsed.TotalSeconds:F2} s (median {Median(leases):F1} ms, p95 {Percentile(leases, 0.95):F1} ms), "
                + $"{leased} cells leased; baseline GET /health median {Median(health):F1} ms"));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Sends <paramref name="count"/> requests, <see cref="Concurrency"/> at a time, and returns each one's latency in milliseconds; a failed request stops the benchmark.</summary>
    private static async Task<List<double>> TimeCallsAsync(int count, Func<int, Task<HttpResponseMessage>> call)
    {
        var latencies = new List<double>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (index, token) =>
        {
            long started = Stopwatch.GetTimestamp();
            using var response = await call(index);
            double milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Request {index} failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}");
            }

            lock (latencies)
            {
                latencies.Add(milliseconds);
            }
        });
        return latencies;
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        for (int attempt = 0; attempt < 300; attempt++)
        {
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

            await Task.Delay(100);
        }

        throw new InvalidOperationException("The coordinator did not become healthy within 30 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int index = text.IndexOf(value, StringComparison.Ordinal); index >= 0; index = text.IndexOf(value, index + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double share)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
