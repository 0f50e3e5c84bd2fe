using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Grid;
using Microsoft.Extensions.Logging;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;
using Polly;
using Polly.Timeout;

namespace Lipizzaner.CellWorker.Storage;

/// <summary>
/// S3 connection settings from an Aspire-style connection string,
/// <c>Endpoint=http://host:port;AccessKey=...;SecretKey=...</c> (keys case-insensitive, in any order).
/// <see cref="ToString"/> never shows the secret key.
/// </summary>
public sealed class S3ConnectionSettings
{
    private S3ConnectionSettings(Uri endpoint, string accessKey, string secretKey)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
    }

    public Uri Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    public bool UseTls => Endpoint.Scheme == Uri.UriSchemeHttps;

    public static S3ConnectionSettings Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException(
                    "The S3 connection string has a part without 'name=value'; expected Endpoint=http://host:port;AccessKey=...;SecretKey=...");
            }

            parts[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        string endpointText = Require(parts, "Endpoint");
        string accessKey = Require(parts, "AccessKey");
        string secretKey = Require(parts, "SecretKey");
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
            || endpoint.AbsolutePath != "/")
        {
            throw new FormatException(
                $"The S3 connection string's Endpoint '{endpointText}' is not an http:// or https:// address without a path.");
        }

        return new S3ConnectionSettings(endpoint, accessKey, secretKey);
    }

    public override string ToString() => $"Endpoint={Endpoint.GetLeftPart(UriPartial.Authority)};AccessKey={AccessKey};SecretKey=***";

    private static string Require(Dictionary<string, string> parts, string name) =>
        parts.TryGetValue(name, out string? value) && value.Length > 0
            ? value
            : throw new FormatException(
                $"The S3 connection string lacks '{name}'; expected Endpoint=http://host:port;AccessKey=...;SecretKey=...");
}

/// <summary>
/// The distributed <see cref="ICheckpointStore"/> on S3-compatible storage (MinIO, or any S3 with
/// path-style addressing). Checkpoint objects are <c>{run}/cells/{x}-{y}/gen-{generation:D6}.ckpt</c>
/// in one bucket (created when missing), each the content followed by its SHA-256 (the framing of
/// <see cref="FolderCheckpointStore"/>) and carrying the checksum, run, cell and generation as
/// metadata. A per-cell manifest, <c>{run}/cells/{x}-{y}/manifest.json</c>, lists the generations;
/// it is rewritten only after the checkpoint object is stored, so it never lists a missing object,
/// and <see cref="ListAsync"/> reads it rather than listing the bucket. One writer per cell (the
/// worker holding its lease) is assumed: the manifest update is a read-modify-write.
/// </summary>
/// <remarks>
/// Every S3 call runs through a Polly pipeline: a total timeout, retries with exponential back-off
/// and jitter on transient failures (connection errors, timeouts, server errors), and a
/// per-attempt timeout; each retry is logged with the run and the cell, never with credentials.
/// </remarks>
public sealed class S3CheckpointStore : ICheckpointStore, ICellOutputStore, IDisposable
{
    private const int HashLength = 32;
    private const string MetadataPrefix = "x-amz-meta-";
    private const string MixtureManifestName = "mixture.json";

    private static readonly ResiliencePropertyKey<string> CellProperty = new("lipizzaner.cell");
    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly HashSet<string> TransientErrorCodes = new(StringComparer.Ordinal)
    {
        "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed",
    };

    private readonly IMinioClient _client;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly string _runId;
    private readonly GridTopology _topology;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly SemaphoreSlim _bucketLock = new(1, 1);
    private volatile bool _bucketReady;
    private int _disposed;

    /// <summary>Creates a store on <paramref name="client"/>, which it disposes only when <paramref name="ownsClient"/> is true.</summary>
    public S3CheckpointStore(
        IMinioClient client,
        string bucket,
        string runId,
        GridTopology topology,
        ILogger logger,
        RetryOptions? resilience = null,
        TimeProvider? timeProvider = null,
        bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(logger);
        _client = client;
        _ownsClient = ownsClient;
        _bucket = bucket;
        // The run id becomes the first segment of every object name; same rule as the Redis keys.
        _runId = RedisKeys.ValidateRunId(runId);
        _topology = topology;
        _logger = logger;
        _pipeline = CreatePipeline(resilience ?? RetryOptions.S3, timeProvider ?? TimeProvider.System);
    }

    public string Bucket => _bucket;

    public string RunId => _runId;

    /// <summary>Creates a store that owns a Minio client built from <paramref name="connectionString"/> (path-style addressing).</summary>
    public static S3CheckpointStore Create(
        string connectionString,
        string bucket,
        string runId,
        GridTopology topology,
        ILogger logger,
        RetryOptions? resilience = null,
        TimeProvider? timeProvider = null)
    {
        var settings = S3ConnectionSettings.Parse(connectionString);
        // Minio addresses buckets path-style (http://host:port/bucket/object) for every endpoint
        // other than AWS's own, which is what MinIO and s3rver expect.
        var client = new MinioClient()
            .WithEndpoint(settings.Endpoint.Host, settings.Endpoint.Port)
            .WithCredentials(settings.AccessKey, settings.SecretKey)
            .WithSSL(settings.UseTls)
            .Build();
        return new S3CheckpointStore(client, bucket, runId, topology, logger, resilience, timeProvider, ownsClient: true);
    }

    /// <summary>The name of the checkpoint object of a cell at a generation.</summary>
    public string ObjectName(int cellIndex, int generation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        return string.Create(CultureInfo.InvariantCulture, $"{CellPrefix(cellIndex)}gen-{generation:D6}.ckpt");
    }

    /// <summary>The name of a cell's manifest object.</summary>
    public string ManifestName(int cellIndex) => CellPrefix(cellIndex) + "manifest.json";

    public async Task WriteAsync(int cellIndex, int generation, byte[] content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        string objectName = ObjectName(cellIndex, generation);
        string cell = _topology.CellName(cellIndex);
        await EnsureBucketAsync(cell, cancellationToken).ConfigureAwait(false);

        byte[] hash = SHA256.HashData(content);
        byte[] framed = [.. content, .. hash];
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MetadataPrefix + "sha256"] = Convert.ToHexStringLower(hash),
            [MetadataPrefix + "run"] = _runId,
            [MetadataPrefix + "cell"] = cell,
            [MetadataPrefix + "generation"] = generation.ToString(CultureInfo.InvariantCulture),
        };
        await PutAsync("write checkpoint", cell, objectName, framed, "application/octet-stream", metadata, cancellationToken)
            .ConfigureAwait(false);

        // The manifest is the commit point: only now does the checkpoint become visible to readers.
        var generations = (await ReadManifestAsync(cellIndex, cell, cancellationToken).ConfigureAwait(false)).ToHashSet();
        if (generations.Add(generation))
        {
            var manifest = new CheckpointManifest(_runId, cell, [.. generations.Order()]);
            byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJson);
            await PutAsync("write manifest", cell, ManifestName(cellIndex), manifestBytes, "application/json", null, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<int>> ListAsync(int cellIndex, CancellationToken cancellationToken)
    {
        string cell = _topology.CellName(cellIndex);
        return await ReadManifestAsync(cellIndex, cell, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> ReadAsync(int cellIndex, int generation, CancellationToken cancellationToken)
    {
        string objectName = ObjectName(cellIndex, generation);
        string cell = _topology.CellName(cellIndex);
        byte[] framed = await GetAsync("read checkpoint", cell, objectName, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException(
                $"Checkpoint of cell {cell} at generation {generation} (s3 object {_bucket}/{objectName}) is missing.");
        if (framed.Length < HashLength)
        {
            throw new InvalidDataException(
                $"Checkpoint of cell {cell} at generation {generation} (s3 object {_bucket}/{objectName}) is truncated ({framed.Length} bytes).");
        }

        var content = framed.AsSpan(0, framed.Length - HashLength);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(framed.AsSpan(framed.Length - HashLength)))
        {
            throw new InvalidDataException(
                $"Checkpoint of cell {cell} at generation {generation} (s3 object {_bucket}/{objectName}) fails its checksum: it is corrupt or truncated.");
        }

        return content.ToArray();
    }

    /// <summary>
    /// Uploads the mixture folder's files to <c>{run}/cells/{x}-{y}/mixture/</c>, each with its SHA-256
    /// as metadata, the manifest last, and returns the <c>s3://</c> URI of that prefix.
    /// </summary>
    public async Task<string> WriteMixtureAsync(int cellIndex, string mixtureFolder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mixtureFolder);
        string cell = _topology.CellName(cellIndex);
        string prefix = CellPrefix(cellIndex) + "mixture/";
        await EnsureBucketAsync(cell, cancellationToken).ConfigureAwait(false);
        var files = Directory.GetFiles(mixtureFolder)
            .OrderBy(file => Path.GetFileName(file) == MixtureManifestName ? 1 : 0)
            .ThenBy(file => file, StringComparer.Ordinal);
        foreach (string file in files)
        {
            byte[] bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
            string name = Path.GetFileName(file);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [MetadataPrefix + "sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                [MetadataPrefix + "run"] = _runId,
                [MetadataPrefix + "cell"] = cell,
            };
            string contentType = name.EndsWith(".json", StringComparison.Ordinal) ? "application/json"
                : name.EndsWith(".png", StringComparison.Ordinal) ? "image/png"
                : "application/octet-stream";
            await PutAsync("write mixture", cell, prefix + name, bytes, contentType, metadata, cancellationToken).ConfigureAwait(false);
        }

        return $"s3://{_bucket}/{prefix}";
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _bucketLock.Dispose();
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private string CellPrefix(int cellIndex) => $"{_runId}/cells/{_topology.CellName(cellIndex)}/";

    private async Task<IReadOnlyList<int>> ReadManifestAsync(int cellIndex, string cell, CancellationToken cancellationToken)
    {
        string name = ManifestName(cellIndex);
        byte[]? bytes = await GetAsync("read manifest", cell, name, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return [];
        }

        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(bytes, ManifestJson);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"Checkpoint manifest of cell {cell} (s3 object {_bucket}/{name}) is not valid JSON.", error);
        }

        if (manifest?.Generations is null)
        {
            throw new InvalidDataException($"Checkpoint manifest of cell {cell} (s3 object {_bucket}/{name}) lists no generations.");
        }

        return [.. manifest.Generations.Where(generation => generation >= 0).Distinct().Order()];
    }

    private async Task EnsureBucketAsync(string cell, CancellationToken cancellationToken)
    {
        if (_bucketReady)
        {
            return;
        }

        await _bucketLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_bucketReady)
            {
                return;
            }

            await ExecuteAsync("create bucket", cell, async token =>
            {
                if (await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(_bucket), token).ConfigureAwait(false))
                {
                    return true;
                }

                try
                {
                    await _client.MakeBucketAsync(new MakeBucketArgs().WithBucket(_bucket), token).ConfigureAwait(false);
                    _logger.LogInformation("Created bucket {Bucket} for the checkpoints of run {RunId}", _bucket, _runId);
                }
                catch (MinioException)
                {
                    // Another worker may have created it between the two calls; anything else is rethrown.
                    if (!await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(_bucket), token).ConfigureAwait(false))
                    {
                        throw;
                    }
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
            _bucketReady = true;
        }
        finally
        {
            _bucketLock.Release();
        }
    }

    private Task PutAsync(
        string operation,
        string cell,
        string objectName,
        byte[] bytes,
        string contentType,
        Dictionary<string, string>? metadata,
        CancellationToken cancellationToken) =>
        ExecuteAsync(operation, cell, async token =>
        {
            // A fresh stream per attempt: a failed attempt may have consumed part of the previous one.
            using var stream = new MemoryStream(bytes, writable: false);
            var arguments = new PutObjectArgs()
                .WithBucket(_bucket)
                .WithObject(objectName)
                .WithStreamData(stream)
                .WithObjectSize(bytes.LongLength)
                .WithContentType(contentType);
            if (metadata is not null)
            {
                arguments = arguments.WithHeaders(metadata);
            }

            await _client.PutObjectAsync(arguments, token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Returns the object's bytes, or null when it (or the bucket) does not exist.</summary>
    private Task<byte[]?> GetAsync(string operation, string cell, string objectName, CancellationToken cancellationToken) =>
        ExecuteAsync<byte[]?>(operation, cell, async token =>
        {
            using var buffer = new MemoryStream();
            try
            {
                await _client.GetObjectAsync(
                    new GetObjectArgs()
                        .WithBucket(_bucket)
                        .WithObject(objectName)
                        .WithCallbackStream(async (stream, streamToken) =>
                            await stream.CopyToAsync(buffer, streamToken).ConfigureAwait(false)),
                    token).ConfigureAwait(false);
            }
            catch (Exception error) when (error is ObjectNotFoundException or BucketNotFoundException)
            {
                return null;
            }

            return buffer.ToArray();
        }, cancellationToken);

    private async Task<T> ExecuteAsync<T>(
        string operation, string cell, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        context.Properties.Set(CellProperty, cell);
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (ctx, state) => await state(ctx.CancellationToken).ConfigureAwait(false),
                context,
                call).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private ResiliencePipeline CreatePipeline(RetryOptions options, TimeProvider timeProvider) =>
        options.CreatePipeline(timeProvider, IsTransient, arguments =>
            _logger.LogWarning(
                "S3 {Operation} for run {RunId}, cell {Cell} failed ({ErrorType}: {ErrorMessage}); retry {Attempt} in {DelayMs} ms",
                arguments.Context.OperationKey,
                _runId,
                arguments.Context.Properties.GetValue(CellProperty, "-"),
                arguments.Outcome.Exception?.GetType().Name,
                arguments.Outcome.Exception?.Message,
                arguments.AttemptNumber + 1,
                (long)arguments.RetryDelay.TotalMilliseconds));

    private static bool IsTransient(Exception error, CancellationToken cancellationToken) => error switch
    {
        TimeoutRejectedException or HttpRequestException or SocketException or IOException or ConnectionException => true,
        InternalClientException => true,
        ErrorResponseException response => response.Response?.Code is { } code && TransientErrorCodes.Contains(code),
        // HttpClient's own timeout surfaces as a cancellation the caller did not ask for.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        MinioException { InnerException: { } inner } => IsTransient(inner, cancellationToken),
        // Minio 7.0.0 throws this while it parses an error response without content, such as an empty
        // 503, so the status is lost. The worker tests also hit it with s3rver under load. Retry it.
        NullReferenceException when error.TargetSite?.DeclaringType?.Assembly == typeof(MinioClient).Assembly => true,
        _ => false,
    };

    private sealed record CheckpointManifest(string Run, string Cell, IReadOnlyList<int> Generations);
}
