using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lipizzaner.CellWorker.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Timeout;

namespace Lipizzaner.CellWorker.Worker;

/// <summary>A cell leased to this worker, with its index, grid coordinates, lease epoch and expiry on the coordinator's clock.</summary>
public sealed record CellLeaseGrant(int Cell, int X, int Y, string WorkerId, long Epoch, DateTimeOffset ExpiresAt);

/// <summary>The grid the coordinator built from the registered capacity.</summary>
public sealed record GridShapeView(int Width, int Height);

/// <summary>The coordinator's response to a registration.</summary>
public sealed record RegistrationView(
    string RunId, string WorkerId, int Capacity, int RegisteredCapacity, string State, GridShapeView? Grid);

/// <summary>One cell of a run as the coordinator reports it.</summary>
public sealed record RunCellView(int Cell, int X, int Y, string State, string? WorkerId, int Generation, double? Score);

/// <summary>A run as the coordinator reports it. <see cref="State"/> is pending, running, completed, aborted or failed.</summary>
public sealed record RunStatusView(
    string RunId, string State, string? Reason, int Generations, int RegisteredCapacity, GridShapeView? Grid, IReadOnlyList<RunCellView> Cells)
{
    public bool HasEnded => State is "completed" or "aborted" or "failed";
}

/// <summary>Error raised when the coordinator rejects a call. The message contains the status code and the problem detail.</summary>
public class CoordinatorException : Exception
{
    public CoordinatorException()
    {
    }

    public CoordinatorException(string message)
        : base(message)
    {
    }

    public CoordinatorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CoordinatorException(HttpStatusCode statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public HttpStatusCode StatusCode { get; }
}

/// <summary>Error raised on a 409 to a heartbeat, progress or completion call. The worker no longer holds the lease, so it must stop working on the cell.</summary>
public sealed class LeaseLostException : CoordinatorException
{
    public LeaseLostException()
    {
    }

    public LeaseLostException(string message)
        : base(HttpStatusCode.Conflict, message)
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Typed client of the coordinator's run API. Every POST sends the bearer token, and GETs need none.
/// JSON bodies are snake_case, as the coordinator writes and reads them. The caller owns the
/// <see cref="HttpClient"/>. Its base address is the coordinator's, ending in '/' when it has a path.
/// </summary>
/// <remarks>
/// Every call runs through a retry pipeline (<see cref="RetryOptions.Coordinator"/> by default), so
/// a coordinator that restarts or is briefly unreachable does not stop the worker's cells: connection
/// errors, timeouts and 5xx responses are retried with back-off, and each retry is logged. A lease
/// request whose answer was lost may be granted twice; the unused lease expires like a dead worker's.
/// </remarks>
public sealed partial class CoordinatorClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly ResiliencePipeline _pipeline;

    /// <summary>Creates the client; <paramref name="workerId"/> names the worker in the retry log lines.</summary>
    public CoordinatorClient(
        HttpClient http, string token, RetryOptions? retries = null, ILogger? logger = null, string? workerId = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _http = http;
        _authorization = new AuthenticationHeaderValue("Bearer", token);
        var log = logger ?? NullLogger.Instance;
        _pipeline = (retries ?? RetryOptions.Coordinator).CreatePipeline(timeProvider ?? TimeProvider.System, IsTransient, arguments =>
            LogRetry(log, workerId ?? "-", arguments.Context.OperationKey ?? "call", arguments.Outcome.Exception?.GetType().Name,
                arguments.Outcome.Exception?.Message, arguments.AttemptNumber + 1, (long)arguments.RetryDelay.TotalMilliseconds));
    }

    /// <summary>The run that is pending or running at the coordinator, or null when none is.</summary>
    public async Task<RunStatusView?> GetCurrentRunAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri("runs/current", UriKind.Relative)),
            "GET the current run", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "GET the current run", leaseCall: false, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<RunStatusView>(Json, cancellationToken).ConfigureAwait(false);
    }

    public Task<RegistrationView> RegisterAsync(string runId, string workerId, int capacity, CancellationToken cancellationToken) =>
        PostAsync<RegistrationView>($"runs/{Escape(runId)}/workers", new { worker_id = workerId, capacity }, leaseCall: false, cancellationToken)!;

    /// <summary>
    /// Leases a free cell. <paramref name="receivedLeases"/> are the leases the worker received in this
    /// run, so that a retried request gets the lease that a lost response carried. Returns null while no
    /// cell is free or the grid is not built yet.
    /// </summary>
    public Task<CellLeaseGrant?> LeaseAsync(
        string runId, string workerId, IEnumerable<CellLeaseGrant> receivedLeases, CancellationToken cancellationToken) =>
        PostAsync<CellLeaseGrant>(
            $"runs/{Escape(runId)}/leases",
            new { worker_id = workerId, received_leases = receivedLeases.Select(lease => new { cell = lease.Cell, epoch = lease.Epoch }).ToList() },
            leaseCall: false,
            cancellationToken);

    /// <summary>Renews the lease and returns it with its new expiry. Throws <see cref="LeaseLostException"/> when the worker lost it.</summary>
    public async Task<CellLeaseGrant> HeartbeatAsync(string runId, CellLeaseGrant lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return (await PostAsync<CellLeaseGrant>(
            $"runs/{Escape(runId)}/leases/{lease.Cell}/heartbeat", new { worker_id = lease.WorkerId, epoch = lease.Epoch }, leaseCall: true,
            cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Reports the generations the cell finished. Throws <see cref="LeaseLostException"/> when the worker lost the lease.</summary>
    public async Task ProgressAsync(string runId, CellLeaseGrant lease, int generation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await PostAsync<CellLeaseGrant>(
            $"runs/{Escape(runId)}/leases/{lease.Cell}/progress",
            new { worker_id = lease.WorkerId, epoch = lease.Epoch, generation }, leaseCall: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes the cell with its final mixture score, or null when the run does not score (NaN is sent as null),
    /// and where its final mixture is stored. Throws <see cref="LeaseLostException"/> when the worker lost the lease.
    /// </summary>
    public async Task CompleteAsync(
        string runId, CellLeaseGrant lease, int generation, double? score, string? mixture, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        double? sent = score is { } value && double.IsFinite(value) ? value : null;
        await PostAsync<CellLeaseGrant>(
            $"runs/{Escape(runId)}/leases/{lease.Cell}/complete",
            new { worker_id = lease.WorkerId, epoch = lease.Epoch, generation, score = sent, mixture }, leaseCall: true, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Downloads the run's YAML configuration as it was submitted.</summary>
    public async Task<string> GetConfigAsync(string runId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri($"runs/{Escape(runId)}/config", UriKind.Relative)),
            $"GET the configuration of run {runId}", cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"GET the configuration of run {runId}", leaseCall: false, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<RunStatusView> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri($"runs/{Escape(runId)}", UriKind.Relative)),
            $"GET run {runId}", cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"GET run {runId}", leaseCall: false, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<RunStatusView>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new CoordinatorException($"The coordinator returned an empty body to GET run {runId}.");
    }

    private async Task<T?> PostAsync<T>(string path, object body, bool leaseCall, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
            {
                Content = JsonContent.Create(body, options: Json),
            };
            request.Headers.Authorization = _authorization;
            return request;
        }, $"POST {path}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await EnsureSuccessAsync(response, $"POST {path}", leaseCall, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a fresh request per attempt; a 5xx or 408 response counts as a transient failure and is retried.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, string call, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(call, cancellationToken);
        try
        {
            return await _pipeline.ExecuteAsync(async ctx =>
            {
                using var request = createRequest();
                var response = await _http.SendAsync(request, ctx.CancellationToken).ConfigureAwait(false);
                if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout)
                {
                    var status = response.StatusCode;
                    response.Dispose();
                    throw new HttpRequestException($"The coordinator responded {(int)status} to {call}.", null, status);
                }

                return response;
            }, context).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // HttpClient's own timeout surfaces as a cancellation the caller did not ask for.
    private static bool IsTransient(Exception error, CancellationToken cancellationToken) => error switch
    {
        HttpRequestException or TimeoutRejectedException or IOException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Worker {WorkerId}: coordinator call {Call} failed ({ErrorType}: {ErrorMessage}); retry {Attempt} in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string workerId, string call, string? errorType, string? errorMessage, int attempt, long delayMs);

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string call, bool leaseCall, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string detail = await ReadDetailAsync(response, cancellationToken).ConfigureAwait(false);
        string message = $"The coordinator returned {(int)response.StatusCode} to {call}: {detail}";
        throw leaseCall && response.StatusCode == HttpStatusCode.Conflict
            ? new LeaseLostException(message)
            : new CoordinatorException(response.StatusCode, message);
    }

    private static async Task<string> ReadDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return text.Length > 500 ? text[..500] : text;
    }

    private static string Escape(string runId) => Uri.EscapeDataString(runId);
}
