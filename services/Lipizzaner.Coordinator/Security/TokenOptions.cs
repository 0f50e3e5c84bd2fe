using Microsoft.Extensions.Options;

namespace Lipizzaner.Coordinator.Security;

/// <summary>
/// The bearer token that every mutating endpoint requires, from configuration <c>Lipizzaner:Token</c>
/// (environment <c>Lipizzaner__Token</c>). There is no default: without a token the service does not start.
/// </summary>
public sealed class TokenOptions
{
    public const string SectionName = "Lipizzaner";

    /// <summary>The shared secret workers and operators send as <c>Authorization: Bearer ...</c>. Never logged.</summary>
    public string? Token { get; set; }
}

/// <summary>Rejects a missing token at startup. The message names where to set it and contains no value.</summary>
public sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.Token)
            ? ValidateOptionsResult.Fail(
                "No bearer token is configured: set Lipizzaner:Token in configuration or the environment variable "
                + "Lipizzaner__Token. The coordinator does not start without one, since its mutating endpoints require it.")
            : ValidateOptionsResult.Success;
    }
}
