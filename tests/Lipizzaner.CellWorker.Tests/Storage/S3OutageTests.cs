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

    [Fact]
    public async Task Empty_503_responses_are_retried()
    {
        // A server that responds to every request with 503 and no body, as an overloaded S3 endpoint can.
        int port = ChildProcess.FreeLoopbackPort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        int requests = 0;
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (System.Net.HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref requests);
                context.Response.StatusCode = 503;
                context.Response.ContentLength64 = 0;
                context.Response.Close();
            }
        });
        var log = new CapturingLogger();
        using var store = S3CheckpointStore.Create(
            $"Endpoint=http://127.0.0.1:{port};AccessKey=test-access;SecretKey=test-secret", S3CheckpointStoreTests.NewBucket(),
            S3CheckpointStoreTests.NewRunId(), S3CheckpointStoreTests.Grid, log,
            new RetryOptions { MaxRetryAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(20), TotalTimeout = TimeSpan.FromSeconds(20) });

        await Assert.ThrowsAnyAsync<Exception>(() => store.ReadAsync(0, 1, CancellationToken.None));
        listener.Stop();
        await serving;

        var retries = log.Entries.Where(entry => entry.StartsWith("Warning: S3 ", StringComparison.Ordinal)).ToList();
        Assert.True(retries.Count == 3, log.AllText);
        Assert.True(requests > 3, $"{requests} requests reached the server");
    }
}
