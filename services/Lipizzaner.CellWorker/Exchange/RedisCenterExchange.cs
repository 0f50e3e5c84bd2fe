using System.Globalization;
using System.Net;
using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.Core.Coordination;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Runtime;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;
using StackExchange.Redis;

namespace Lipizzaner.CellWorker.Exchange;

/// <summary>
/// The distributed <see cref="ICenterExchange"/>: each cell's newest center lives in the Redis hash
/// <see cref="RedisKeys.Center"/>. A publish writes generation, checksum, size and payload in one Lua
/// script, so readers see the old center or the new one, never a mix, and the script keeps the
/// stored center when it is newer than the published one (compare-and-set on the generation). A read
/// is one HMGET: it returns null at once when the cell has published nothing, and verifies size and
/// SHA-256 before handing the payload out.
/// </summary>
/// <remarks>
/// Centers are megabytes; a multiplexer sends every command of a process over one socket in order,
/// so a center transfer on the multiplexer that also carries leases and heartbeats would delay
/// those small, deadline-bound commands behind it and make leases expire. The exchange therefore
/// takes a multiplexer of its own (see <see cref="ConnectAsync"/>). It disposes that multiplexer
/// only when it owns it. Every Redis call runs through a Polly pipeline: a total timeout, retries
/// with exponential back-off and jitter on connection failures and timeouts, and a per-attempt
/// timeout; each retry is logged with the run and the cell, never with connection settings.
/// </remarks>
public sealed class RedisCenterExchange : ICenterExchange, IAsyncDisposable
{
    // KEYS[1]: the center hash. ARGV: field/value pairs, generation first. The stored center is kept
    // when its generation is newer; an equal generation is overwritten, as in the in-memory exchange.
    private const string PublishScript = """
        local stored = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
        if stored and stored > tonumber(ARGV[2]) then
          return 0
        end
        redis.call('HSET', KEYS[1], unpack(ARGV))
        return 1
        """;

    private static readonly ResiliencePropertyKey<string> CellProperty = new("lipizzaner.cell");

    private static readonly RedisValue[] ReadFields =
        [RedisKeys.GenerationField, RedisKeys.Sha256Field, RedisKeys.SizeField, RedisKeys.PayloadField];

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly string _runId;
    private readonly GridTopology _topology;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private int _disposed;

    /// <summary>
    /// Creates an exchange on <paramref name="payloadConnection"/>, a multiplexer used for center
    /// traffic only (see remarks); disposing the exchange disposes it only when
    /// <paramref name="ownsConnection"/> is true.
    /// </summary>
    public RedisCenterExchange(
        IConnectionMultiplexer payloadConnection,
        string runId,
        GridTopology topology,
        ILogger logger,
        RetryOptions? resilience = null,
        TimeProvider? timeProvider = null,
        bool ownsConnection = false)
    {
        ArgumentNullException.ThrowIfNull(payloadConnection);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(logger);
        _connection = payloadConnection;
        _ownsConnection = ownsConnection;
        _runId = RedisKeys.ValidateRunId(runId);
        _topology = topology;
        _logger = logger;
        _pipeline = CreatePipeline(resilience ?? RetryOptions.Redis, timeProvider ?? TimeProvider.System, runId, logger);
    }

    public string RunId => _runId;

    /// <summary>
    /// Opens a dedicated multiplexer from a StackExchange.Redis configuration string
    /// (<c>host:port,password=...</c>) and returns an exchange that owns it. The first connection
    /// is retried through the same pipeline as every call; a rejected password fails at once with
    /// <see cref="UnauthorizedAccessException"/>. Later disconnections are healed by the
    /// multiplexer's reconnects and the calls' retries.
    /// </summary>
    public static async Task<RedisCenterExchange> ConnectAsync(
        string configuration,
        string runId,
        GridTopology topology,
        ILogger logger,
        RetryOptions? resilience = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ArgumentNullException.ThrowIfNull(logger);
        RedisKeys.ValidateRunId(runId);
        var options = ConfigurationOptions.Parse(configuration);
        // Fail the first connection instead of queueing commands behind a server that is not there
        // or refuses the password; reconnects after a later loss are unaffected by this setting.
        options.AbortOnConnectFail = true;
        options.ClientName ??= $"lipizzaner-centers-{runId}";
        string endpoints = DescribeEndpoints(options);

        var pipeline = CreatePipeline(resilience ?? RetryOptions.Redis, timeProvider ?? TimeProvider.System, runId, logger);
        var context = ResilienceContextPool.Shared.Get("connect", cancellationToken);
        context.Properties.Set(CellProperty, "-");
        IConnectionMultiplexer connection;
        try
        {
            connection = await pipeline.ExecuteAsync(
                static async (ctx, state) =>
                    (IConnectionMultiplexer)await ConnectionMultiplexer.ConnectAsync(state).WaitAsync(ctx.CancellationToken).ConfigureAwait(false),
                context,
                options).ConfigureAwait(false);
        }
        catch (RedisConnectionException error) when (error.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            throw new UnauthorizedAccessException(
                $"Redis at {endpoints} rejected the credentials: check the password (and user) of the Redis connection string.",
                error);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        return new RedisCenterExchange(connection, runId, topology, logger, resilience, timeProvider, ownsConnection: true);
    }

    public async ValueTask PublishAsync(CenterSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(snapshot.Payload);
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Generation);
        var (x, y) = _topology.Coordinates(snapshot.CellIndex);
        string checksum = AtomicFile.Sha256Hex(snapshot.Payload);
        if (!string.Equals(checksum, snapshot.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"Center of cell {_topology.CellName(snapshot.CellIndex)} (generation {snapshot.Generation}) does not match its SHA-256; not published.",
                nameof(snapshot));
        }

        RedisKey key = RedisKeys.Center(_runId, x, y);
        RedisValue[] arguments =
        [
            RedisKeys.GenerationField, snapshot.Generation,
            RedisKeys.Sha256Field, checksum,
            RedisKeys.SizeField, snapshot.Payload.Length,
            RedisKeys.PayloadField, snapshot.Payload,
        ];
        RedisKey[] keys = [key];
        var result = await ExecuteAsync(
            "publish",
            snapshot.CellIndex,
            database => database.ScriptEvaluateAsync(PublishScript, keys, arguments),
            cancellationToken).ConfigureAwait(false);

        if ((long)result == 0)
        {
            _logger.LogDebug(
                "Run {RunId}, cell {Cell}: generation {Generation} not published because Redis already contains a newer center",
                _runId, _topology.CellName(snapshot.CellIndex), snapshot.Generation);
        }
    }

    public async ValueTask<CenterSnapshot?> TryGetLatestAsync(int cellIndex, CancellationToken cancellationToken)
    {
        var (x, y) = _topology.Coordinates(cellIndex);
        string cell = _topology.CellName(cellIndex);
        RedisKey key = RedisKeys.Center(_runId, x, y);
        RedisValue[] values;
        try
        {
            values = await ExecuteAsync(
                "read", cellIndex, database => database.HashGetAsync(key, ReadFields), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException error) when (error.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Center of cell {cell} (Redis key {key}) is not a hash: the key was overwritten.", error);
        }

        if (values.All(value => value.IsNull))
        {
            return null;
        }

        return Decode(cellIndex, cell, key, values);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static CenterSnapshot Decode(int cellIndex, string cell, RedisKey key, RedisValue[] values)
    {
        var (generationValue, checksumValue, sizeValue, payloadValue) = (values[0], values[1], values[2], values[3]);
        if (generationValue.IsNull || checksumValue.IsNull || sizeValue.IsNull || payloadValue.IsNull)
        {
            throw new InvalidDataException($"Center of cell {cell} (Redis key {key}) is incomplete: a field is missing.");
        }

        if (!int.TryParse((string?)generationValue, NumberStyles.None, CultureInfo.InvariantCulture, out int generation)
            || !long.TryParse((string?)sizeValue, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
        {
            throw new InvalidDataException($"Center of cell {cell} (Redis key {key}) has an unreadable generation or size.");
        }

        byte[] payload = (byte[])payloadValue!;
        if (payload.LongLength != size)
        {
            throw new InvalidDataException(
                $"Center of cell {cell} (Redis key {key}, generation {generation}) has {payload.LongLength} bytes instead of {size}: it is truncated or overwritten.");
        }

        string checksum = (string)checksumValue!;
        if (!string.Equals(AtomicFile.Sha256Hex(payload), checksum, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"Center of cell {cell} (Redis key {key}, generation {generation}) fails its SHA-256 checksum: it is corrupt.");
        }

        return new CenterSnapshot(cellIndex, generation, payload, checksum.ToLowerInvariant());
    }

    private async Task<T> ExecuteAsync<T>(
        string operation, int cellIndex, Func<IDatabase, Task<T>> call, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        context.Properties.Set(CellProperty, _topology.CellName(cellIndex));
        try
        {
            // StackExchange.Redis commands take no token; WaitAsync lets the timeouts and the
            // caller's cancellation end the wait (the command itself then completes unobserved).
            return await _pipeline.ExecuteAsync(
                static async (ctx, state) =>
                    await state.Call(state.Database).WaitAsync(ctx.CancellationToken).ConfigureAwait(false),
                context,
                (Call: call, Database: _connection.GetDatabase())).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static ResiliencePipeline CreatePipeline(RetryOptions options, TimeProvider timeProvider, string runId, ILogger logger) =>
        options.CreatePipeline(timeProvider, static (error, _) => IsTransient(error), arguments =>
            logger.LogWarning(
                "Redis {Operation} for run {RunId}, cell {Cell} failed ({ErrorType}: {ErrorMessage}); retry {Attempt} in {DelayMs} ms",
                arguments.Context.OperationKey,
                runId,
                arguments.Context.Properties.GetValue(CellProperty, "-"),
                arguments.Outcome.Exception?.GetType().Name,
                arguments.Outcome.Exception?.Message,
                arguments.AttemptNumber + 1,
                (long)arguments.RetryDelay.TotalMilliseconds));

    // A rejected password is final; a lost connection or a slow server is worth another try.
    private static bool IsTransient(Exception error) => error switch
    {
        RedisConnectionException connection => connection.FailureType != ConnectionFailureType.AuthenticationFailure,
        RedisTimeoutException or TimeoutRejectedException => true,
        _ => false,
    };

    private static string DescribeEndpoints(ConfigurationOptions options) =>
        string.Join(", ", options.EndPoints.Select(endpoint => endpoint switch
        {
            DnsEndPoint dns => string.Create(CultureInfo.InvariantCulture, $"{dns.Host}:{dns.Port}"),
            _ => endpoint.ToString() ?? "?",
        }));
}
