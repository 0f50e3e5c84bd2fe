namespace Lipizzaner.Core.Configuration;

/// <summary>
/// An invalid configuration: a missing or unreadable file, invalid YAML, a malformed <c>--set</c>
/// override or invalid values. <see cref="Exception.Message"/> is written for the user as it is, and
/// <see cref="Errors"/> contains the same problems one per entry.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException()
        : this("Invalid configuration.")
    {
    }

    public ConfigException(string message)
        : base(message)
    {
        Errors = [message];
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>Creates one exception for several problems, with the message listing each on its own line.</summary>
    public ConfigException(string header, IReadOnlyList<string> errors)
        : base(FormatMessage(header, errors))
    {
        Errors = errors.ToArray();
    }

    /// <summary>The individual problems, without the header line.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string FormatMessage(string header, IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 1)
        {
            return $"{header}: {errors[0]}";
        }

        string separator = Environment.NewLine + "  ";
        return $"{header} ({errors.Count} errors):{separator}{string.Join(separator, errors)}";
    }
}
