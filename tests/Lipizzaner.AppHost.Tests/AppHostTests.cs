using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Lipizzaner.AppHost.Tests;

/// <summary>Tests of the app model on this machine. redis-server, s3rver and the coordinator start, and the coordinator becomes healthy.</summary>
public sealed class AppHostTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Coordinator_becomes_healthy()
    {
        using var limit = new CancellationTokenSource(Limit);
        // Workers start only on request (they need a submitted run), so none is added here.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lipizzaner_AppHost>(
            ["Lipizzaner:Workers=0", "Parameters:run-id=none", "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true"], limit.Token);
        await using var app = await builder.BuildAsync(limit.Token);
        await app.StartAsync(limit.Token);

        await app.ResourceNotifications.WaitForResourceHealthyAsync("coordinator", limit.Token);

        using var http = app.CreateHttpClient("coordinator", "http");
        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative), limit.Token);
        Assert.True(response.IsSuccessStatusCode, $"GET /health returned {(int)response.StatusCode}");
        await app.ResourceNotifications.WaitForResourceAsync("redis", KnownResourceStates.Running, limit.Token);
        await app.ResourceNotifications.WaitForResourceAsync("minio", KnownResourceStates.Running, limit.Token);
    }
}
