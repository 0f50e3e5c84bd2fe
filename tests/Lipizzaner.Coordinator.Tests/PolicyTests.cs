using System.Net;

namespace Lipizzaner.Coordinator.Tests;

public sealed class PolicyTests
{
    [Fact]
    public async Task Policy_stragglers_end_after_timeout()
    {
        using var factory = new CoordinatorFactory();
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

        // Three of four cells (the finish proportion 0.75) complete. Cell 3 straggles but keeps its lease.
        for (int cell = 0; cell < 3; cell++)
        {
            await client.PostOkAsync($"/runs/{run}/leases/{cell}/complete",
                new { worker_id = $"w{cell}", epoch = 1, generation = 3, score = 10.0 + cell });
        }

        factory.Time.Advance(TimeSpan.FromSeconds(25));
        await client.PostOkAsync($"/runs/{run}/leases/3/heartbeat", new { worker_id = "w3", epoch = 1 });
        factory.Time.Advance(TimeSpan.FromSeconds(25));
        await client.PostOkAsync($"/runs/{run}/leases/3/heartbeat", new { worker_id = "w3", epoch = 1 });
        Assert.Equal("running", (await client.GetRunAsync(run)).GetProperty("state").GetString());

        factory.Time.Advance(TimeSpan.FromSeconds(10));
        var view = await client.WaitForStateAsync(run, "completed");
        Assert.Contains("straggler timeout", view.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("leased", view.GetProperty("cells")[3].GetProperty("state").GetString());

        // The straggler learns from its next call that the run is over.
        using var late = await client.PostJsonAsync($"/runs/{run}/leases/3/heartbeat", new { worker_id = "w3", epoch = 1 });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal(0, (await client.GetResultsAsync(run)).GetProperty("best_cell").GetInt32());
    }

    [Fact]
    public async Task Policy_too_many_dead_cells_abort()
    {
        using var factory = new CoordinatorFactory();
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

        // Cells 0 and 1 keep their leases, while 2 and 3 expire: two dead, one allowed.
        factory.Time.Advance(TimeSpan.FromSeconds(20));
        await client.PostOkAsync($"/runs/{run}/leases/0/heartbeat", new { worker_id = "w0", epoch = 1 });
        await client.PostOkAsync($"/runs/{run}/leases/1/heartbeat", new { worker_id = "w1", epoch = 1 });
        factory.Time.Advance(TimeSpan.FromSeconds(15));

        var view = await client.WaitForStateAsync(run, "aborted");
        Assert.Contains("2 cells are dead", view.GetProperty("reason").GetString(), StringComparison.Ordinal);
        using var results = await client.GetAsync(new Uri($"/runs/{run}/results", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, results.StatusCode);
    }

    [Fact]
    public async Task Registration_timeout_too_few_fails()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        await client.RegisterAsync(run, "w0");
        await client.RegisterAsync(run, "w1", capacity: 2);

        using (var early = await client.PostJsonAsync($"/runs/{run}/leases", new { worker_id = "w0" }))
        {
            Assert.Equal(HttpStatusCode.NoContent, early.StatusCode);
        }

        factory.Time.Advance(TimeSpan.FromSeconds(60));
        var view = await client.WaitForStateAsync(run, "failed");
        Assert.Equal(
            "The registration timeout of 60 s passed with 3 cells of capacity from 2 workers registered; min_clients requires at least 4. "
            + "Start more workers, or lower distribution.min_clients.",
            view.GetProperty("reason").GetString());

        using var register = await client.PostJsonAsync($"/runs/{run}/workers", new { worker_id = "w2", capacity = 1 });
        Assert.Equal(HttpStatusCode.Conflict, register.StatusCode);
    }
}
