using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Lipizzaner.Coordinator.Tests;

/// <summary>The best cell follows the direction of the run's score type: lowest FID or KID, highest Inception Score.</summary>
public sealed class ScoreDirectionTests
{
    [Theory]
    [InlineData("fid", 1, 12.25)]
    [InlineData("kid", 1, 12.25)]
    [InlineData("inception_score", 0, 41.5)]
    public async Task Best_cell_follows_score_direction(string type, int bestCell, double bestScore)
    {
        // The coordinator only validates the configuration; the classifier file is read by workers.
        string classifier = type == "inception_score" ? ", classifier_onnx: /models/classifier.onnx" : "";
        using var factory = new CoordinatorFactory(new Dictionary<string, string?> { ["Lipizzaner:Distribution:FinishProportion"] = "1" });
        using var client = factory.CreateAuthorizedClient();
        string yaml = $"grid: {{ width: 2, height: 2 }}\ntrainer:\n  n_iterations: 1\n  params:\n    score: {{ type: {type}{classifier} }}\n";
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        using var created = await client.PostAsync(new Uri("/runs", UriKind.Relative), content);
        string body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        string run = JsonDocument.Parse(body).RootElement.GetProperty("run_id").GetString()!;

        double[] scores = [41.5, 12.25, 30.0, 18.0];
        for (int worker = 0; worker < 4; worker++)
        {
            await client.RegisterAsync(run, $"w{worker}");
        }

        for (int worker = 0; worker < 4; worker++)
        {
            var lease = await client.LeaseAsync(run, $"w{worker}");
            int cell = lease.GetProperty("cell").GetInt32();
            await client.PostOkAsync($"/runs/{run}/leases/{cell}/complete",
                new { worker_id = $"w{worker}", epoch = lease.GetProperty("epoch").GetInt64(), generation = 1, score = scores[cell] });
        }

        var results = await client.GetFromJsonAsync<JsonElement>(new Uri($"/runs/{run}/results", UriKind.Relative));
        Assert.Equal(bestCell, results.GetProperty("best_cell").GetInt32());
        Assert.Equal(bestScore, results.GetProperty("score").GetDouble());
        Assert.Equal(type, results.GetProperty("score_type").GetString());
    }

    [Fact]
    public async Task Negative_kid_is_accepted()
    {
        using var factory = new CoordinatorFactory(new Dictionary<string, string?> { ["Lipizzaner:Distribution:FinishProportion"] = "1" });
        using var client = factory.CreateAuthorizedClient();
        string run = await client.CreateRunAsync();
        for (int worker = 0; worker < 4; worker++)
        {
            await client.RegisterAsync(run, $"w{worker}");
        }

        var lease = await client.LeaseAsync(run, "w0");
        using var response = await client.PostJsonAsync($"/runs/{run}/leases/{lease.GetProperty("cell").GetInt32()}/complete",
            new { worker_id = "w0", epoch = lease.GetProperty("epoch").GetInt64(), generation = 1, score = -0.25 });

        // The unbiased KID estimate is negative when two sets are closer than chance.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
