using System.Net;
using System.Text.Json;

namespace Lipizzaner.Coordinator.Tests;

public sealed class RunFlowTests
{
    [Fact]
    public async Task Run_four_workers_complete_with_results()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        Assert.Equal("pending", (await client.GetRunAsync(run)).GetProperty("state").GetString());

        for (int worker = 0; worker < 4; worker++)
        {
            await client.RegisterAsync(run, $"w{worker}");
        }

        var view = await client.GetRunAsync(run);
        Assert.Equal("running", view.GetProperty("state").GetString());
        Assert.Equal(2, view.GetProperty("grid").GetProperty("width").GetInt32());
        Assert.Equal(2, view.GetProperty("grid").GetProperty("height").GetInt32());

        var leases = new List<JsonElement>();
        for (int worker = 0; worker < 4; worker++)
        {
            leases.Add(await client.LeaseAsync(run, $"w{worker}"));
        }

        Assert.Equal([0, 1, 2, 3], leases.Select(lease => lease.GetProperty("cell").GetInt32()));
        Assert.Equal((1, 0), (leases[1].GetProperty("x").GetInt32(), leases[1].GetProperty("y").GetInt32()));
        Assert.Equal(factory.Time.GetUtcNow().AddSeconds(30), leases[0].GetProperty("expires_at").GetDateTimeOffset());

        // Capacity 1 each, so a second lease request gets 204 while the first lease is held.
        using (var none = await client.PostJsonAsync($"/runs/{run}/leases", new { worker_id = "w0" }))
        {
            Assert.Equal(HttpStatusCode.NoContent, none.StatusCode);
        }

        for (int generation = 1; generation <= 3; generation++)
        {
            factory.Time.Advance(TimeSpan.FromSeconds(20));
            foreach (var lease in leases)
            {
                int cell = lease.GetProperty("cell").GetInt32();
                var call = new { worker_id = lease.GetProperty("worker_id").GetString(), epoch = lease.GetProperty("epoch").GetInt64(), generation };
                var renewed = await client.PostOkAsync($"/runs/{run}/leases/{cell}/heartbeat", call);
                Assert.Equal(factory.Time.GetUtcNow().AddSeconds(30), renewed.GetProperty("expires_at").GetDateTimeOffset());
                await client.PostOkAsync($"/runs/{run}/leases/{cell}/progress", call);
            }
        }

        Assert.All((await client.GetRunAsync(run)).GetProperty("cells").EnumerateArray(),
            cell => Assert.Equal(3, cell.GetProperty("generation").GetInt32()));
        using (var early = await client.GetAsync(new Uri($"/runs/{run}/results", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        }

        double[] fids = [41.5, 12.25, 30.0, 18.0];
        foreach (var lease in leases)
        {
            int cell = lease.GetProperty("cell").GetInt32();
            await client.PostOkAsync($"/runs/{run}/leases/{cell}/complete", new
            {
                worker_id = lease.GetProperty("worker_id").GetString(),
                epoch = lease.GetProperty("epoch").GetInt64(),
                generation = 3,
                score = fids[cell],
            });
        }

        view = await client.GetRunAsync(run);
        Assert.Equal("completed", view.GetProperty("state").GetString());
        Assert.Equal("Every cell completed.", view.GetProperty("reason").GetString());
        Assert.All(view.GetProperty("cells").EnumerateArray(), cell => Assert.Equal("completed", cell.GetProperty("state").GetString()));

        var results = await client.GetResultsAsync(run);
        Assert.Equal(1, results.GetProperty("best_cell").GetInt32());
        Assert.Equal(12.25, results.GetProperty("score").GetDouble());

        string metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("lipizzaner_cell_fid", metrics, StringComparison.Ordinal);
        Assert.Contains("lipizzaner_leases_active", metrics, StringComparison.Ordinal);

        // The run ended, so a new one may start.
        Assert.NotEqual(run, await client.CreateRunAsync());
    }

    [Fact]
    public async Task Retried_lease_request_gets_lost_lease()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        await client.RegisterAsync(run, "w0", capacity: 2);
        await client.RegisterAsync(run, "w1", capacity: 2);

        // The first response is lost: the worker retries and has received no lease yet.
        var lost = await client.PostOkAsync($"/runs/{run}/leases", new { worker_id = "w0", received_leases = Array.Empty<object>() });
        var retried = await client.PostOkAsync($"/runs/{run}/leases", new { worker_id = "w0", received_leases = Array.Empty<object>() });
        int cell = retried.GetProperty("cell").GetInt32();
        long epoch = retried.GetProperty("epoch").GetInt64();
        var second = await client.PostOkAsync($"/runs/{run}/leases", new { worker_id = "w0", received_leases = new[] { new { cell, epoch } } });

        Assert.Equal(lost.GetProperty("cell").GetInt32(), cell);
        Assert.Equal(lost.GetProperty("epoch").GetInt64(), epoch);
        Assert.NotEqual(cell, second.GetProperty("cell").GetInt32());
        Assert.Contains(factory.Logs.Lines, line => line.Contains($"Run {run}: cell {cell} leased again to worker w0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lease_request_without_received_leases_gets_new_cell()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        await client.RegisterAsync(run, "w0", capacity: 2);
        await client.RegisterAsync(run, "w1", capacity: 2);

        var first = await client.LeaseAsync(run, "w0");
        var second = await client.LeaseAsync(run, "w0");

        Assert.NotEqual(first.GetProperty("cell").GetInt32(), second.GetProperty("cell").GetInt32());
    }

    [Fact]
    public async Task Lease_expired_goes_to_another_worker()
    {
        using var factory = new CoordinatorFactory(new Dictionary<string, string?> { ["Lipizzaner:Distribution:MaxDeadCells"] = "4" });
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        for (int worker = 0; worker < 4; worker++)
        {
            await client.RegisterAsync(run, $"w{worker}");
        }

        for (int worker = 0; worker < 4; worker++)
        {
            await client.LeaseAsync(run, $"w{worker}");
        }

        factory.Time.Advance(TimeSpan.FromSeconds(31));
        var cells = (await client.GetRunAsync(run)).GetProperty("cells");
        Assert.Equal("free", cells[0].GetProperty("state").GetString());

        // A worker that registers late takes over the first expired cell, with a new epoch.
        await client.RegisterAsync(run, "late");
        var lease = await client.LeaseAsync(run, "late");
        Assert.Equal(0, lease.GetProperty("cell").GetInt32());
        Assert.Equal(2, lease.GetProperty("epoch").GetInt64());

        foreach (string operation in new[] { "heartbeat", "progress", "complete" })
        {
            using var stale = await client.PostJsonAsync($"/runs/{run}/leases/0/{operation}",
                new { worker_id = "w0", epoch = 1, generation = 1, score = 1.0 });
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        }

        await client.PostOkAsync($"/runs/{run}/leases/0/heartbeat", new { worker_id = "late", epoch = 2 });
        Assert.Equal("late", (await client.GetRunAsync(run)).GetProperty("cells")[0].GetProperty("worker_id").GetString());
        Assert.Contains(factory.Logs.Lines, line => line.Contains($"Run {run}: cell 0 heartbeat from worker w0 at epoch 1 rejected", StringComparison.Ordinal));
    }
}

internal static class ResultsApi
{
    public static async Task<JsonElement> GetResultsAsync(this HttpClient client, string run)
    {
        using var response = await client.GetAsync(new Uri($"/runs/{run}/results", UriKind.Relative));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
