using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

namespace Lipizzaner.Coordinator.Tests;

public sealed class SecurityAndHostTests
{
    private static readonly string[] _mutatingPaths =
    [
        "/runs",
        "/runs/{run}/workers",
        "/runs/{run}/leases",
        "/runs/{run}/leases/0/heartbeat",
        "/runs/{run}/leases/0/progress",
        "/runs/{run}/leases/0/complete",
    ];

    [Fact]
    public async Task Token_wrong_or_missing_gives_401()
    {
        using var factory = new CoordinatorFactory();
        using var authorized = factory.CreateAuthorizedClient();
        string run = await authorized.CreateRunAsync();

        using var anonymous = factory.CreateClient();
        AuthenticationHeaderValue?[] headers =
        [
            null,
            new("Bearer", "wrong-token"),
            new("Bearer", CoordinatorFactory.Token + "x"),
            new("Basic", CoordinatorFactory.Token),
        ];
        foreach (string template in _mutatingPaths)
        {
            foreach (var header in headers)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(template.Replace("{run}", run, StringComparison.Ordinal), UriKind.Relative))
                {
                    Content = new StringContent("{\"worker_id\":\"w0\",\"capacity\":1}", Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = header;
                using var response = await anonymous.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{template} with {header}: {response.StatusCode}");
            }
        }

        Assert.Equal("pending", (await anonymous.GetRunAsync(run)).GetProperty("state").GetString());
        using var results = await anonymous.GetAsync(new Uri($"/runs/{run}/results", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, results.StatusCode);
        Assert.Contains(factory.Logs.Lines, line => line.Contains($"Rejected POST /runs/{run}/workers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Token_absent_from_logs()
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

        using var wrong = factory.CreateClient();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CoordinatorFactory.Token[..^1]);
        using (var response = await wrong.PostJsonAsync($"/runs/{run}/leases", new { worker_id = "w0" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.NotEmpty(factory.Logs.Lines);
        Assert.DoesNotContain(factory.Logs.Lines, line => line.Contains(CoordinatorFactory.Token[..^1], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Endpoints_health_alive_metrics_return_200()
    {
        using var factory = new CoordinatorFactory();
        using var client = factory.CreateClient();
        foreach (string path in new[] { "/health", "/alive", "/metrics", "/openapi/v1.json" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("Lipizzaner:Distribution:MaxClients", "2", "Lipizzaner:Distribution:MaxClients is 2")]
    [InlineData("Lipizzaner:Distribution:FinishProportion", "1.5", "Lipizzaner:Distribution:FinishProportion is 1.5")]
    [InlineData("Lipizzaner:Distribution:LeaseDuration", "00:00:00", "Lipizzaner:Distribution:LeaseDuration is 00:00:00")]
    [InlineData("Lipizzaner:Distribution:MaxAspectRatio", "0.5", "Lipizzaner:Distribution:MaxAspectRatio is 0.5")]
    [InlineData("Lipizzaner:Token", "", "No bearer token is configured: set Lipizzaner:Token")]
    public void Settings_invalid_fail_start_naming_setting(string key, string value, string expected)
    {
        using var factory = new CoordinatorFactory(new Dictionary<string, string?> { [key] = value });
        var exception = Assert.ThrowsAny<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }
}
