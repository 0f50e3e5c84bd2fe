using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Storage;
using Lipizzaner.CellWorker.Tests.Servers;

namespace Lipizzaner.CellWorker.Tests.Storage;

/// <summary>Tests that stop S3, so each one starts an s3rver of its own.</summary>
public sealed class S3OutageTests
{
    [Fact]
    public async Task Write_during_outage_succeeds_after_restart()
    {
        await using var server = await S3ServerFixture.StartNewAsync();
        var log = new CapturingLogger();
        string runId = S3CheckpointStoreTests.NewRunId();
        using var store = S3CheckpointStore.Create(
            server.ConnectionString, S3CheckpointStoreTests.NewBucket(), runId, S3CheckpointStoreTests.Grid, log,
            S3CheckpointStoreTests.QuickRetries);
        byte[] first = S3CheckpointStoreTests.Content(20_000, 1);
        byte[] second = S3CheckpointStoreTests.Content(20_000, 2);
        await store.WriteAsync(0, 1, first, CancellationToken.None);

        server.Stop();
        var write = store.WriteAsync(0, 2, second, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(write.IsCompleted);
        await server.StartAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(45));

        Assert.Equal([1, 2], await store.ListAsync(0, CancellationToken.None));
        Assert.Equal(first, await store.ReadAsync(0, 1, CancellationToken.None));
        Assert.Equal(second, await store.ReadAsync(0, 2, CancellationToken.None));
        var retries = log.Entries.Where(entry => entry.StartsWith("Warning: S3 write checkpoint", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(retries);
        Assert.All(retries, entry => Assert.Contains($"run {runId}, cell 0-0", entry, StringComparison.Ordinal));
        Assert.DoesNotContain(server.SecretKey, log.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_that_gives_up_is_unlisted()
    {
        await using var server = await S3ServerFixture.StartNewAsync();
        using var store = S3CheckpointStore.Create(
            server.ConnectionString, S3CheckpointStoreTests.NewBucket(), S3CheckpointStoreTests.NewRunId(), S3CheckpointStoreTests.Grid,
            new CapturingLogger(),
            new RetryOptions { MaxRetryAttempts = 2, RetryDelay = TimeSpan.FromMilliseconds(50), TotalTimeout = TimeSpan.FromSeconds(10) });
        await store.WriteAsync(3, 1, S3CheckpointStoreTests.Content(100, 1), CancellationToken.None);

        server.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => store.WriteAsync(3, 2, S3CheckpointStoreTests.Content(100, 2), CancellationToken.None));
        await server.StartAsync();

        Assert.Equal([1], await store.ListAsync(3, CancellationToken.None));
    }
}
