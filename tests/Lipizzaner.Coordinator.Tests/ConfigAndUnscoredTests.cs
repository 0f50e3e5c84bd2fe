using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lipizzaner.Coordinator.Tests;

public sealed class ConfigAndUnscoredTests
{
    [Fact]
    public async Task Config_returns_submitted_yaml()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();

        using var anonymous = factory.CreateClient();
        using var response = await anonymous.GetAsync(new Uri($"/runs/{run}/config", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/yaml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(CoordinatorFactory.RunYaml, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Config_unknown_run_not_found()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/runs/no-such-run/config", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Completion_without_scores_has_no_results()
    {
        using var factory = new CoordinatorFactory(new Dictionary<string, string?> { ["Lipizzaner:Distribution:FinishProportion"] = "1" });
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        for (int worker = 0; worker < 4; worker++)
        {
            await client.RegisterAsync(run, $"w{worker}");
        }

        for (int worker = 0; worker < 4; worker++)
        {
            var lease = await client.LeaseAsync(run, $"w{worker}");
            int cell = lease.GetProperty("cell").GetInt32();
            await client.PostOkAsync($"/runs/{run}/leases/{cell}/complete",
                new { worker_id = $"w{worker}", epoch = lease.GetProperty("epoch").GetInt64(), generation = 3, score = (double?)null });
        }

        var view = await client.WaitForStateAsync(run, "completed");
        Assert.All(view.GetProperty("cells").EnumerateArray(), cell =>
        {
            Assert.Equal("completed", cell.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, cell.GetProperty("score").ValueKind);
        });
        using var results = await client.GetAsync(new Uri($"/runs/{run}/results", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, results.StatusCode);
        Assert.Contains("no cell reported a score", (await results.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
