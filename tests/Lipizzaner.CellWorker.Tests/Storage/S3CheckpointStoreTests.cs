using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Storage;
using Lipizzaner.CellWorker.Tests.Servers;
using Lipizzaner.Core.Grid;
using Minio;
using Minio.DataModel.Args;

namespace Lipizzaner.CellWorker.Tests.Storage;

public sealed class S3CheckpointStoreTests(S3ServerFixture server) : IClassFixture<S3ServerFixture>
{
    internal static readonly GridTopology Grid = new(3, 2);

    internal static readonly RetryOptions QuickRetries = new()
    {
        MaxRetryAttempts = 40,
        RetryDelay = TimeSpan.FromMilliseconds(100),
        MaxRetryDelay = TimeSpan.FromMilliseconds(500),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        TotalTimeout = TimeSpan.FromSeconds(40),
    };

    [Fact]
    public async Task Write_list_read_round_trips()
    {
        var log = new CapturingLogger();
        using var store = S3CheckpointStore.Create(server.ConnectionString, NewBucket(), NewRunId(), Grid, log, QuickRetries);
        byte[][] contents = [Content(10_000, 1), Content(0, 2), Content(300_000, 3)];

        await store.WriteAsync(4, 10, contents[2], CancellationToken.None);
        await store.WriteAsync(4, 0, contents[0], CancellationToken.None);
        await store.WriteAsync(4, 5, contents[1], CancellationToken.None);

        Assert.Equal([0, 5, 10], await store.ListAsync(4, CancellationToken.None));
        Assert.Empty(await store.ListAsync(3, CancellationToken.None));
        Assert.Equal(contents[0], await store.ReadAsync(4, 0, CancellationToken.None));
        Assert.Equal(contents[1], await store.ReadAsync(4, 5, CancellationToken.None));
        Assert.Equal(contents[2], await store.ReadAsync(4, 10, CancellationToken.None));
        Assert.Equal($"{store.RunId}/cells/1-1/gen-000010.ckpt", store.ObjectName(4, 10));
        Assert.Equal($"{store.RunId}/cells/1-1/manifest.json", store.ManifestName(4));
        Assert.DoesNotContain(server.SecretKey, log.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_missing_bucket_is_empty()
    {
        using var store = S3CheckpointStore.Create(server.ConnectionString, NewBucket(), NewRunId(), Grid, new CapturingLogger(), QuickRetries);

        Assert.Empty(await store.ListAsync(0, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidDataException>(() => store.ReadAsync(0, 1, CancellationToken.None));
    }

    [Fact]
    public async Task Write_stores_framing_and_metadata()
    {
        string bucket = NewBucket();
        using var store = S3CheckpointStore.Create(server.ConnectionString, bucket, NewRunId(), Grid, new CapturingLogger(), QuickRetries);
        byte[] content = Content(1234, 9);
        await store.WriteAsync(2, 3, content, CancellationToken.None);
        using var client = Client();

        var stat = await client.StatObjectAsync(new StatObjectArgs().WithBucket(bucket).WithObject(store.ObjectName(2, 3)));

        Assert.Equal(1234 + 32, stat.Size);
        var metadata = stat.MetaData.ToDictionary(pair => pair.Key.ToLowerInvariant(), pair => pair.Value);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)), metadata["sha256"]);
        Assert.Equal("3", metadata["generation"]);
        Assert.Equal("2-0", metadata["cell"]);
    }

    [Fact]
    public async Task Read_bit_flipped_object_fails()
    {
        string bucket = NewBucket();
        using var store = S3CheckpointStore.Create(server.ConnectionString, bucket, NewRunId(), Grid, new CapturingLogger(), QuickRetries);
        await store.WriteAsync(1, 2, Content(5000, 4), CancellationToken.None);
        using var client = Client();
        byte[] stored = await GetObjectAsync(client, bucket, store.ObjectName(1, 2));
        stored[1234] ^= 0x04;
        await PutObjectAsync(client, bucket, store.ObjectName(1, 2), stored);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.ReadAsync(1, 2, CancellationToken.None));

        Assert.Contains("cell 1-0", error.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_lists_only_completed_writes()
    {
        string bucket = NewBucket();
        using var store = S3CheckpointStore.Create(server.ConnectionString, bucket, NewRunId(), Grid, new CapturingLogger(), QuickRetries);
        await store.WriteAsync(5, 1, Content(100, 1), CancellationToken.None);
        using var client = Client();
        // A worker that crashed after storing the object but before updating the manifest.
        await PutObjectAsync(client, bucket, store.ObjectName(5, 2), Content(132, 2));

        Assert.Equal([1], await store.ListAsync(5, CancellationToken.None));
        await store.WriteAsync(5, 3, Content(100, 3), CancellationToken.None);
        await store.WriteAsync(5, 3, Content(100, 4), CancellationToken.None);

        Assert.Equal([1, 3], await store.ListAsync(5, CancellationToken.None));
        Assert.Equal(Content(100, 4), await store.ReadAsync(5, 3, CancellationToken.None));
    }

    [Fact]
    public void ConnectionString_parse_errors_name_part()
    {
        var settings = S3ConnectionSettings.Parse("endpoint=http://127.0.0.1:9000 ; AccessKey=ak;SecretKey=s3cr3t=x");

        Assert.Equal(new Uri("http://127.0.0.1:9000"), settings.Endpoint);
        Assert.Equal("ak", settings.AccessKey);
        Assert.Equal("s3cr3t=x", settings.SecretKey);
        Assert.False(settings.UseTls);
        Assert.DoesNotContain("s3cr3t", settings.ToString(), StringComparison.Ordinal);
        var missing = Assert.Throws<FormatException>(() => S3ConnectionSettings.Parse("Endpoint=http://127.0.0.1:9000;AccessKey=ak"));
        Assert.Contains("'SecretKey'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("'Endpoint'", Assert.Throws<FormatException>(() => S3ConnectionSettings.Parse("AccessKey=a;SecretKey=b")).Message, StringComparison.Ordinal);
        var badEndpoint = Assert.Throws<FormatException>(() => S3ConnectionSettings.Parse("Endpoint=ftp://h;AccessKey=a;SecretKey=topsecret"));
        Assert.DoesNotContain("topsecret", badEndpoint.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => S3ConnectionSettings.Parse("Endpoint=http://h:1;AccessKey;SecretKey=b"));
    }

    internal static string NewBucket() => "lpz-test-" + Guid.NewGuid().ToString("N")[..12];

    internal static string NewRunId() => "run-" + Guid.NewGuid().ToString("N")[..8];

    internal static byte[] Content(int size, int seed)
    {
        byte[] content = new byte[size];
        new Random(seed).NextBytes(content);
        return content;
    }

    private IMinioClient Client()
    {
        var settings = S3ConnectionSettings.Parse(server.ConnectionString);
        return new MinioClient()
            .WithEndpoint(settings.Endpoint.Host, settings.Endpoint.Port)
            .WithCredentials(settings.AccessKey, settings.SecretKey)
            .WithSSL(false)
            .Build();
    }

    private static async Task<byte[]> GetObjectAsync(IMinioClient client, string bucket, string name)
    {
        using var buffer = new MemoryStream();
        await client.GetObjectAsync(new GetObjectArgs().WithBucket(bucket).WithObject(name)
            .WithCallbackStream(async (stream, token) => await stream.CopyToAsync(buffer, token)));
        return buffer.ToArray();
    }

    private static async Task PutObjectAsync(IMinioClient client, string bucket, string name, byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        await client.PutObjectAsync(new PutObjectArgs().WithBucket(bucket).WithObject(name)
            .WithStreamData(stream).WithObjectSize(bytes.Length));
    }
}
