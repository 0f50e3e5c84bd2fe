using Lipizzaner.CellWorker.Exchange;
using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Tests.Servers;
using Lipizzaner.Core.Grid;

namespace Lipizzaner.CellWorker.Tests.Exchange;

/// <summary>Tests that stop Redis, so each one starts a server of its own.</summary>
public sealed class RedisRestartTests
{
    private static readonly GridTopology Grid = new(2, 2);

    [Fact]
    public async Task Exchange_recovers_after_Redis_restart()
    {
        await using var server = await RedisServerFixture.StartNewAsync();
        var log = new CapturingLogger();
        string runId = RedisCenterExchangeTests.NewRunId();
        var resilience = new RetryOptions
        {
            MaxRetryAttempts = 30,
            RetryDelay = TimeSpan.FromMilliseconds(100),
            MaxRetryDelay = TimeSpan.FromMilliseconds(500),
            AttemptTimeout = TimeSpan.FromSeconds(1),
            TotalTimeout = TimeSpan.FromSeconds(40),
        };
        await using var exchange = await RedisCenterExchange.ConnectAsync(server.Configuration, runId, Grid, log, resilience);
        await exchange.PublishAsync(RedisCenterExchangeTests.Snapshot(3, 1, 4096, 1), CancellationToken.None);

        server.Stop();
        var second = RedisCenterExchangeTests.Snapshot(3, 2, 4096, 2);
        var publish = exchange.PublishAsync(second, CancellationToken.None).AsTask();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(publish.IsCompleted);
        await server.StartAsync();
        await publish.WaitAsync(TimeSpan.FromSeconds(45));
        var read = await exchange.TryGetLatestAsync(3, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(2, read.Generation);
        Assert.Equal(second.Payload, read.Payload);
        var retries = log.Entries.Where(entry => entry.StartsWith("Warning: Redis publish", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(retries);
        Assert.All(retries, entry => Assert.Contains($"run {runId}, cell 1-1", entry, StringComparison.Ordinal));
        Assert.DoesNotContain(server.Password, log.AllText, StringComparison.Ordinal);
    }
}
