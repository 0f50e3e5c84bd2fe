using System.Globalization;
using System.Text.RegularExpressions;

namespace Lipizzaner.Core.Coordination;

/// <summary>
/// The Redis key schema of the distributed runtime, defined here and nowhere else.
/// <list type="bullet">
/// <item><c>lpz:{run}:center:{x}:{y}</c>: a hash with the newest center of the cell at (x, y): the fields
/// <see cref="GenerationField"/>, <see cref="Sha256Field"/> (lowercase hexadecimal SHA-256 of the payload),
/// <see cref="SizeField"/> (payload length in bytes) and <see cref="PayloadField"/>, always written together.</item>
/// <item><c>lpz:{run}:coordinator</c>: a string with the coordinator's JSON record of the run (state,
/// registrations, grid, leases, progress, scores), rewritten after every change.</item>
/// <item><c>lpz:coordinator:runs</c>: a set of every run id the coordinator created.</item>
/// <item><c>lpz:coordinator:active</c>: a string with the id of the run that is pending or running, if any.</item>
/// </list>
/// Keys are plain strings, so this file needs no Redis client.
/// </summary>
public static partial class RedisKeys
{
    public const string Prefix = "lpz";

    public const string GenerationField = "generation";
    public const string Sha256Field = "sha256";
    public const string SizeField = "size";
    public const string PayloadField = "payload";

    /// <summary>The set of every run id the coordinator created.</summary>
    public const string CoordinatorRuns = Prefix + ":coordinator:runs";

    /// <summary>The id of the coordinator's active run.</summary>
    public const string CoordinatorActiveRun = Prefix + ":coordinator:active";

    /// <summary>Returns <paramref name="runId"/> when it is 1–64 characters of A–Z, a–z, 0–9, '_' or '-', and throws <see cref="ArgumentException"/> otherwise.</summary>
    public static string ValidateRunId(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!RunIdPattern().IsMatch(runId))
        {
            throw new ArgumentException(
                $"Run id '{runId}' is invalid: use 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'.", nameof(runId));
        }

        return runId;
    }

    /// <summary>Returns the key of the hash that contains the newest center of the cell at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public static string Center(string runId, int x, int y)
    {
        ValidateRunId(runId);
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}:{runId}:center:{x}:{y}");
    }

    /// <summary>Returns the key of the coordinator's record of the run.</summary>
    public static string CoordinatorRun(string runId) => $"{Prefix}:{ValidateRunId(runId)}:coordinator";

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
