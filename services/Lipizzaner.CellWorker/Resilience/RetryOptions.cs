using Polly;
using Polly.Retry;

namespace Lipizzaner.CellWorker.Resilience;

/// <summary>
/// Retry and timeout settings of one kind of remote call (Redis, S3, the coordinator). A call is tried
/// once, then retried up to <see cref="MaxRetryAttempts"/> times with exponential back-off and jitter,
/// each attempt limited to <see cref="AttemptTimeout"/> and the whole call to <see cref="TotalTimeout"/>.
/// </summary>
public sealed record RetryOptions
{
    /// <summary>Defaults of the center exchange's Redis calls: about 20 s of retries (the sum of the delays).</summary>
    public static RetryOptions Redis { get; } = new()
    {
        MaxRetryAttempts = 8,
        RetryDelay = TimeSpan.FromMilliseconds(200),
        AttemptTimeout = TimeSpan.FromSeconds(10),
        TotalTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Defaults of the checkpoint store's S3 calls: about 30 s of retries.</summary>
    public static RetryOptions S3 { get; } = new()
    {
        MaxRetryAttempts = 10,
        RetryDelay = TimeSpan.FromMilliseconds(250),
        AttemptTimeout = TimeSpan.FromSeconds(30),
        TotalTimeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>Defaults of the coordinator calls: about 2 minutes of retries (an estimate: the sum of the delays), long enough for a coordinator restart.</summary>
    public static RetryOptions Coordinator { get; } = new()
    {
        MaxRetryAttempts = 30,
        RetryDelay = TimeSpan.FromMilliseconds(250),
        AttemptTimeout = TimeSpan.FromSeconds(30),
        TotalTimeout = TimeSpan.FromMinutes(3),
    };

    /// <summary>Retries after the first attempt; 0 disables retries.</summary>
    public int MaxRetryAttempts { get; init; } = 8;

    /// <summary>First retry delay, which doubles per retry (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Time limit of one attempt. An attempt that runs past it counts as a transient failure.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time limit of a call with all its retries.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Builds the pipeline: total timeout, then retries of the failures <paramref name="isTransient"/>
    /// accepts (it gets the exception and the caller's token), then the per-attempt timeout.
    /// <paramref name="onRetry"/> logs each retry.
    /// </summary>
    public ResiliencePipeline CreatePipeline(
        TimeProvider timeProvider,
        Func<Exception, CancellationToken, bool> isTransient,
        Action<OnRetryArguments<object>> onRetry)
    {
        ArgumentNullException.ThrowIfNull(isTransient);
        ArgumentNullException.ThrowIfNull(onRetry);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetryAttempts);
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System };
        if (MaxRetryAttempts > 0)
        {
            builder.AddTimeout(TotalTimeout).AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = arguments => ValueTask.FromResult(
                    arguments.Outcome.Exception is { } error && isTransient(error, arguments.Context.CancellationToken)),
                MaxRetryAttempts = MaxRetryAttempts,
                Delay = RetryDelay,
                MaxDelay = MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = arguments =>
                {
                    onRetry(arguments);
                    return default;
                },
            });
        }

        return builder.AddTimeout(AttemptTimeout).Build();
    }
}
