using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Lipizzaner.Cli.Commands;

/// <summary>
/// The CLI's calls to a coordinator's run API. Every failure becomes an <see cref="InvalidOperationException"/>
/// with a one-line message that names the coordinator's URL, so that <see cref="LipizzanerCommand.Execute"/> prints it.
/// </summary>
public sealed class CoordinatorConnection : IDisposable
{
    public const string CoordinatorVariable = "LIPIZZANER_COORDINATOR";
    public const string TokenVariable = "LIPIZZANER_TOKEN";

    private readonly HttpClient _http;
    private readonly Uri _coordinator;

    private CoordinatorConnection(Uri coordinator, string? token)
    {
        _coordinator = coordinator;
        var handler = HandlerOverride?.Invoke() ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = coordinator,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>Handler factory for tests. When set, connections send their requests through its handler instead of the network.</summary>
    internal static Func<HttpMessageHandler>? HandlerOverride { get; set; }

    /// <summary>Opens a connection to <paramref name="coordinator"/>, or to <c>LIPIZZANER_COORDINATOR</c> when it is null.</summary>
    public static CoordinatorConnection Open(string? coordinator, string? token)
    {
        string? text = string.IsNullOrWhiteSpace(coordinator) ? Environment.GetEnvironmentVariable(CoordinatorVariable) : coordinator;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException($"Missing coordinator: pass --coordinator URL or set {CoordinatorVariable}.");
        }

        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The coordinator URL '{text}' is not an absolute http or https URL, e.g. http://127.0.0.1:5080.");
        }

        // Relative calls keep a path such as /lipizzaner/ only when the base ends in '/'.
        if (!address.AbsoluteUri.EndsWith('/'))
        {
            address = new Uri(address.AbsoluteUri + "/");
        }

        return new CoordinatorConnection(address, token);
    }

    /// <summary>Returns <paramref name="token"/>, or <c>LIPIZZANER_TOKEN</c> when it is null, and fails when neither is set.</summary>
    public static string RequireToken(string? token)
    {
        string? value = string.IsNullOrWhiteSpace(token) ? Environment.GetEnvironmentVariable(TokenVariable) : token;
        return string.IsNullOrWhiteSpace(value)
            ? throw new ArgumentException($"Missing token: submitting a run requires the coordinator's token. Pass --token T or set {TokenVariable}.")
            : value.Trim();
    }

    /// <summary>Creates a run (POST /runs) from the YAML configuration and returns the response body, JSON with <c>run_id</c>.</summary>
    public async Task<string> SubmitAsync(string yaml, CancellationToken cancellationToken)
    {
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        return await SendAsync(HttpMethod.Post, "runs", content, "submit the run", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the run's state, grid and cells (GET /runs/{run}) as JSON.</summary>
    public Task<string> StatusAsync(string run, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"runs/{Uri.EscapeDataString(run)}", null, $"read the status of run {run}", cancellationToken);

    /// <summary>Reads the best cell and its FID (GET /runs/{run}/results) as JSON. The coordinator returns 409 until the run ended.</summary>
    public Task<string> ResultsAsync(string run, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"runs/{Uri.EscapeDataString(run)}/results", null, $"read the results of run {run}", cancellationToken);

    /// <summary>Continues an aborted or failed run (POST /runs/{run}/resume) and returns its state as JSON.</summary>
    public Task<string> ResumeAsync(string run, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"runs/{Uri.EscapeDataString(run)}/resume", null, $"resume run {run}", cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<string> SendAsync(HttpMethod method, string path, HttpContent? content, string operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            string reason = error.InnerException is SocketException socket ? socket.Message : error.Message;
            throw new InvalidOperationException($"Cannot reach the coordinator at {_coordinator} to {operation}: {reason}. Check the URL and that the coordinator is running.", error);
        }
        catch (TaskCanceledException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"The request to the coordinator at {_coordinator} to {operation} timed out after {_http.Timeout.TotalSeconds:F0} s.", error);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new InvalidOperationException(
                    $"The coordinator at {_coordinator} rejected the token (401) in the request to {operation}. Check --token or {TokenVariable}.");
            }

            throw new InvalidOperationException($"The coordinator at {_coordinator} returned {(int)response.StatusCode} to the request to {operation}: {Detail(body)}");
        }
    }

    /// <summary>Returns the problem detail of an error body, or the start of the body when it has none.</summary>
    private static string Detail(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        string line = body.ReplaceLineEndings(" ").Trim();
        if (line.Length == 0)
        {
            return "(empty response)";
        }

        return line.Length > 300 ? line[..300] : line;
    }
}
