using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lipizzaner.Core.Coordination;
using StackExchange.Redis;

namespace Lipizzaner.Coordinator.Persistence;

/// <summary>Settings of <see cref="RedisRunStore"/>, from the section <c>Lipizzaner:RunStore</c>.</summary>
public sealed class RunStoreOptions
{
    public const string SectionName = "Lipizzaner:RunStore";

    /// <summary>How long the coordinator's start waits for Redis to respond before it fails. Unit: time span. Default 00:01:00.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>First delay before a failed write is tried again; it doubles up to <see cref="MaxRetryDelay"/>. Default 00:00:00.2.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between two tries of a failed write. Default 00:00:05.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Keeps the coordinator's runs in Redis (keys in <see cref="RedisKeys"/>): each run is a hash with
/// its JSON record and the record's SHA-256, written by one Lua script together with the set of run
/// ids and the active run id, so a reader never sees one without the others. Saves are queued and
/// written by a background loop, newest record per run only, and retried with growing delays while
/// Redis is unreachable, so requests to the coordinator never wait on Redis.
/// </summary>
public sealed partial class RedisRunStore : BackgroundService, IRunStore
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    // KEYS: run hash, run-id set, active-run key. ARGV: record JSON, its SHA-256, run id, "1" when active.
    // An ended run clears the active key only while it still names this run, so writes of two runs in any order agree.
    private const string SaveScript = """
        redis.call('HSET', KEYS[1], 'record', ARGV[1], 'sha256', ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        if ARGV[4] == '1' then
          redis.call('SET', KEYS[3], ARGV[3])
        elseif redis.call('GET', KEYS[3]) == ARGV[3] then
          redis.call('DEL', KEYS[3])
        end
        return 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RunStoreOptions _options;
    private readonly ILogger<RedisRunStore> _logger;
    private readonly ConcurrentDictionary<string, RunRecord> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);

    public RedisRunStore(IConnectionMultiplexer redis, RunStoreOptions options, ILogger<RedisRunStore> logger)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _options = options;
        _logger = logger;
    }

    public bool IsDurable => true;

    /// <summary>Records queued and not yet written, for tests and the shutdown flush.</summary>
    public int PendingCount => _pending.Count;

    public IReadOnlyList<RunRecord> LoadAll()
    {
        var deadline = DateTimeOffset.UtcNow + _options.StartupTimeout;
        var delay = _options.RetryDelay;
        while (true)
        {
            try
            {
                return Read();
            }
            catch (Exception error) when (error is RedisConnectionException or RedisTimeoutException && DateTimeOffset.UtcNow < deadline)
            {
                LogLoadRetry(_logger, delay.TotalSeconds, error.Message);
                Thread.Sleep(delay);
                delay = Next(delay);
            }
            catch (Exception error) when (error is RedisConnectionException or RedisTimeoutException)
            {
                throw new InvalidOperationException(
                    $"The coordinator cannot read its runs from Redis within {_options.StartupTimeout.TotalSeconds:F0} s "
                    + $"(Lipizzaner:RunStore:StartupTimeout): {error.Message} Check ConnectionStrings:redis and that Redis is up.", error);
            }
        }
    }

    public void Save(RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _pending[record.RunId] = record;
        _signal.Release();
    }

    /// <summary>Writes every queued record once; a record that fails stays queued unless a newer one replaced it.</summary>
    public async Task<bool> FlushAsync(CancellationToken cancellationToken)
    {
        bool allWritten = true;
        foreach (string runId in _pending.Keys.ToList())
        {
            if (!_pending.TryRemove(runId, out var record))
            {
                continue;
            }

            try
            {
                await WriteAsync(record).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (error is RedisException or TimeoutException)
            {
                _pending.TryAdd(runId, record);
                allWritten = false;
                LogSaveFailed(_logger, runId, error.Message);
            }
        }

        return allWritten;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = _options.RetryDelay;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _signal.WaitAsync(stoppingToken).ConfigureAwait(false);
                if (await FlushAsync(stoppingToken).ConfigureAwait(false))
                {
                    delay = _options.RetryDelay;
                    continue;
                }

                // Something is still queued: come back after a growing delay even if nothing new arrives.
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = Next(delay);
                _signal.Release();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; StopAsync writes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await FlushAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (!_pending.IsEmpty)
        {
            LogUnsaved(_logger, _pending.Count);
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    private async Task WriteAsync(RunRecord record)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(record, Json);
        string checksum = Convert.ToHexStringLower(SHA256.HashData(json));
        await _redis.GetDatabase().ScriptEvaluateAsync(
            SaveScript,
            [RedisKeys.CoordinatorRun(record.RunId), RedisKeys.CoordinatorRuns, RedisKeys.CoordinatorActiveRun],
            [json, checksum, record.RunId, record.Active ? "1" : "0"]).ConfigureAwait(false);
    }

    private List<RunRecord> Read()
    {
        var database = _redis.GetDatabase();
        var records = new List<RunRecord>();
        foreach (var member in database.SetMembers(RedisKeys.CoordinatorRuns))
        {
            string runId = RedisKeys.ValidateRunId(member.ToString());
            string key = RedisKeys.CoordinatorRun(runId);
            var fields = database.HashGet(key, ["record", "sha256"]);
            if (fields[0].IsNull || fields[1].IsNull)
            {
                throw new InvalidDataException($"Redis key {key} lacks its record or checksum; the coordinator cannot continue run {runId}.");
            }

            byte[] json = (byte[])fields[0]!;
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(json)), fields[1].ToString(), StringComparison.Ordinal))
            {
                throw new InvalidDataException(
                    $"Redis key {key} holds a record whose SHA-256 does not match its checksum; the coordinator cannot continue run {runId}. Delete the key to drop the run.");
            }

            var record = JsonSerializer.Deserialize<RunRecord>(json, Json)
                ?? throw new InvalidDataException($"Redis key {key} contains an empty record.");
            if (record.FormatVersion != RunRecord.CurrentFormatVersion || record.RunId != runId)
            {
                throw new InvalidDataException(
                    $"Redis key {key} holds a record of format {record.FormatVersion} for run {record.RunId}; this coordinator reads format {RunRecord.CurrentFormatVersion}.");
            }

            records.Add(record);
        }

        return records;
    }

    private TimeSpan Next(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the runs from Redis failed; trying again in {DelaySeconds} s: {Error}")]
    private static partial void LogLoadRetry(ILogger logger, double delaySeconds, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: saving the coordinator's record to Redis failed; it stays queued: {Error}")]
    private static partial void LogSaveFailed(ILogger logger, string runId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} run records were not saved to Redis before the coordinator stopped")]
    private static partial void LogUnsaved(ILogger logger, int count);
}
