using System.Diagnostics;
using Lipizzaner.CellWorker.Exchange;
using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Tests.Servers;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Runtime;
using StackExchange.Redis;

namespace Lipizzaner.CellWorker.Tests.Exchange;

public sealed class RedisCenterExchangeTests(RedisServerFixture server) : IClassFixture<RedisServerFixture>
{
    private static readonly GridTopology Grid = new(3, 2);

    private static readonly RetryOptions QuickRetries = new()
    {
        MaxRetryAttempts = 12,
        RetryDelay = TimeSpan.FromMilliseconds(100),
        MaxRetryDelay = TimeSpan.FromSeconds(1),
        AttemptTimeout = TimeSpan.FromSeconds(1),
        TotalTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Publish_then_read_round_trips()
    {
        var log = new CapturingLogger();
        await using var exchange = await ConnectAsync(log);
        var snapshot = Snapshot(cellIndex: 4, generation: 3, size: 2 * 1024 * 1024, seed: 1);

        await exchange.PublishAsync(snapshot, CancellationToken.None);
        var read = await exchange.TryGetLatestAsync(4, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(4, read.CellIndex);
        Assert.Equal(3, read.Generation);
        Assert.Equal(snapshot.Sha256, read.Sha256);
        Assert.Equal(snapshot.Payload, read.Payload);
        Assert.DoesNotContain(server.Password, log.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_writes_documented_hash_fields()
    {
        await using var exchange = await ConnectAsync(new CapturingLogger());
        await exchange.PublishAsync(Snapshot(cellIndex: 5, generation: 2, size: 64, seed: 2), CancellationToken.None);

        await using var direct = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        var entries = await direct.GetDatabase().HashGetAllAsync($"lpz:{exchange.RunId}:center:2:1");
        var fields = entries.ToDictionary(entry => (string)entry.Name!, entry => entry.Value);

        Assert.Equal(["generation", "payload", "sha256", "size"], fields.Keys.Order());
        Assert.Equal("2", (string?)fields["generation"]);
        Assert.Equal("64", (string?)fields["size"]);
    }

    [Fact]
    public async Task Read_missing_cell_returns_null()
    {
        await using var exchange = await ConnectAsync(new CapturingLogger());
        var clock = Stopwatch.StartNew();

        var read = await exchange.TryGetLatestAsync(2, CancellationToken.None);

        Assert.Null(read);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Publish_older_generation_keeps_newer()
    {
        await using var exchange = await ConnectAsync(new CapturingLogger());
        var newer = Snapshot(cellIndex: 1, generation: 7, size: 1000, seed: 7);
        var older = Snapshot(cellIndex: 1, generation: 6, size: 1000, seed: 6);

        await exchange.PublishAsync(newer, CancellationToken.None);
        await exchange.PublishAsync(older, CancellationToken.None);
        var afterOlder = await exchange.TryGetLatestAsync(1, CancellationToken.None);
        var newest = Snapshot(cellIndex: 1, generation: 8, size: 10, seed: 8);
        await exchange.PublishAsync(newest, CancellationToken.None);
        var afterNewest = await exchange.TryGetLatestAsync(1, CancellationToken.None);

        Assert.Equal(7, afterOlder!.Generation);
        Assert.Equal(newer.Payload, afterOlder.Payload);
        Assert.Equal(8, afterNewest!.Generation);
        Assert.Equal(newest.Payload, afterNewest.Payload);
    }

    [Fact]
    public async Task Publish_concurrently_keeps_newest_consistent()
    {
        await using var exchange = await ConnectAsync(new CapturingLogger());
        const int Generations = 40;
        var publishers = Enumerable.Range(0, 6).Select(publisher => Task.Run(async () =>
        {
            var random = new Random(publisher);
            int[] order = [.. Enumerable.Range(0, Generations).OrderBy(_ => random.Next())];
            foreach (int generation in order)
            {
                await exchange.PublishAsync(Snapshot(0, generation, 4096 + generation, generation), CancellationToken.None);
                var seen = await exchange.TryGetLatestAsync(0, CancellationToken.None);
                Assert.NotNull(seen);
                Assert.Equal(Snapshot(0, seen.Generation, 4096 + seen.Generation, seen.Generation).Payload, seen.Payload);
            }
        })).ToArray();

        await Task.WhenAll(publishers);
        var final = await exchange.TryGetLatestAsync(0, CancellationToken.None);

        Assert.Equal(Generations - 1, final!.Generation);
        Assert.Equal(Snapshot(0, Generations - 1, 4096 + Generations - 1, Generations - 1).Payload, final.Payload);
    }

    [Fact]
    public async Task Read_corrupt_center_names_cell()
    {
        await using var exchange = await ConnectAsync(new CapturingLogger());
        await using var direct = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        var database = direct.GetDatabase();
        var snapshot = Snapshot(cellIndex: 3, generation: 4, size: 512, seed: 3);
        var key = RedisKeys.Center(exchange.RunId, 0, 1);

        await exchange.PublishAsync(snapshot, CancellationToken.None);
        byte[] flipped = [.. snapshot.Payload];
        flipped[100] ^= 0x10;
        await database.HashSetAsync(key, RedisKeys.PayloadField, flipped);
        var checksumError = await Assert.ThrowsAsync<InvalidDataException>(
            async () => await exchange.TryGetLatestAsync(3, CancellationToken.None));

        await database.HashSetAsync(key, RedisKeys.PayloadField, "garbage");
        var sizeError = await Assert.ThrowsAsync<InvalidDataException>(
            async () => await exchange.TryGetLatestAsync(3, CancellationToken.None));

        await database.KeyDeleteAsync(key);
        await database.StringSetAsync(key, "not a hash");
        var typeError = await Assert.ThrowsAsync<InvalidDataException>(
            async () => await exchange.TryGetLatestAsync(3, CancellationToken.None));

        Assert.Contains("cell 0-1", checksumError.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", checksumError.Message, StringComparison.Ordinal);
        Assert.Contains("cell 0-1", sizeError.Message, StringComparison.Ordinal);
        Assert.Contains("7 bytes instead of 512", sizeError.Message, StringComparison.Ordinal);
        Assert.Contains("cell 0-1", typeError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_bad_checksum_is_rejected()
    {
        await using var exchange = await ConnectAsync(new CapturingLogger());
        var snapshot = Snapshot(cellIndex: 2, generation: 1, size: 32, seed: 4) with { Sha256 = new string('0', 64) };

        await Assert.ThrowsAsync<ArgumentException>(async () => await exchange.PublishAsync(snapshot, CancellationToken.None));

        Assert.Null(await exchange.TryGetLatestAsync(2, CancellationToken.None));
    }

    [Fact]
    public async Task Connect_wrong_password_fails_clearly()
    {
        var log = new CapturingLogger();
        string wrong = "wrong-" + Guid.NewGuid().ToString("N");
        string configuration = server.Configuration.Replace(server.Password, wrong, StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(
            () => RedisCenterExchange.ConnectAsync(configuration, NewRunId(), Grid, log, QuickRetries));

        Assert.Contains("password", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, log.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunId_invalid_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => RedisKeys.Center("run:1", 0, 0));
        Assert.Contains("'run:1'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RedisKeys.ValidateRunId("run\n"));
        Assert.Throws<ArgumentException>(() => RedisKeys.ValidateRunId(new string('a', 65)));
        Assert.Equal("lpz:run_A-9:center:2:1", RedisKeys.Center("run_A-9", 2, 1).ToString());

        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        Assert.Throws<ArgumentException>(() => new RedisCenterExchange(connection, "bad run", Grid, new CapturingLogger()));
    }

    [Fact]
    public async Task Dispose_keeps_borrowed_connection_open()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        var exchange = new RedisCenterExchange(connection, NewRunId(), Grid, new CapturingLogger(), QuickRetries);
        await exchange.PublishAsync(Snapshot(0, 1, 16, 1), CancellationToken.None);

        await exchange.DisposeAsync();

        Assert.True(connection.IsConnected);
        Assert.Equal("PONG", (string?)await connection.GetDatabase().ExecuteAsync("PING"));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await exchange.TryGetLatestAsync(0, CancellationToken.None));
    }

    private async Task<RedisCenterExchange> ConnectAsync(CapturingLogger log) =>
        await RedisCenterExchange.ConnectAsync(server.Configuration, NewRunId(), Grid, log, QuickRetries);

    internal static string NewRunId() => "test-" + Guid.NewGuid().ToString("N")[..12];

    internal static CenterSnapshot Snapshot(int cellIndex, int generation, int size, int seed)
    {
        byte[] payload = new byte[size];
        new Random(seed).NextBytes(payload);
        return new CenterSnapshot(cellIndex, generation, payload, AtomicFile.Sha256Hex(payload));
    }
}
