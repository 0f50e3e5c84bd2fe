using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Lipizzaner.Coordinator.Security;

/// <summary>
/// Lets a request through only with <c>Authorization: Bearer &lt;token&gt;</c> carrying the configured
/// token; 401 otherwise. Both tokens are hashed first, so the comparison takes the same time whatever
/// their lengths and contents.
/// </summary>
public sealed partial class BearerTokenFilter : IEndpointFilter
{
    private const string _scheme = "Bearer ";
    private readonly byte[] _expectedHash;
    private readonly ILogger<BearerTokenFilter> _logger;

    public BearerTokenFilter(IOptions<TokenOptions> options, ILogger<BearerTokenFilter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Token ?? string.Empty));
        _logger = logger;
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.HttpContext.Request;
        if (!Authorized(request.Headers.Authorization.ToString()))
        {
            LogRejected(_logger, request.Method, request.Path.Value ?? string.Empty);
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: "This endpoint requires the header Authorization: Bearer <token> with the coordinator's token.");
        }

        return await next(context).ConfigureAwait(false);
    }

    private bool Authorized(string header)
    {
        if (!header.StartsWith(_scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] givenHash = SHA256.HashData(Encoding.UTF8.GetBytes(header[_scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(givenHash, _expectedHash);
    }

    // The path names the run and the cell; the header's value is never logged.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {Method} {Path}: missing or wrong bearer token")]
    private static partial void LogRejected(ILogger logger, string method, string path);
}
