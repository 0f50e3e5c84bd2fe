using System.Globalization;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Lipizzaner.CellWorker.Exchange;

/// <summary>
/// The Redis key schema, defined here and nowhere else. Every key of a run starts with
/// <c>lpz:{run}:</c>. <c>lpz:{run}:center:{x}:{y}</c> is a hash that contains the newest center of the
/// cell at (x, y): the fields <see cref="GenerationField"/>, <see cref="Sha256Field"/> (lowercase
/// hexadecimal SHA-256 of the payload), <see cref="SizeField"/> (payload length in bytes) and
/// <see cref="PayloadField"/>, always written together.
/// </summary>
public static partial class RedisKeys
{
    public const string Prefix = "lpz";

    public static readonly RedisValue GenerationField = "generation";
    public static readonly RedisValue Sha256Field = "sha256";
    public static readonly RedisValue SizeField = "size";
    public static readonly RedisValue PayloadField = "payload";

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
    public static RedisKey Center(string runId, int x, int y)
    {
        ValidateRunId(runId);
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        return new RedisKey(string.Create(CultureInfo.InvariantCulture, $"{Prefix}:{runId}:center:{x}:{y}"));
    }

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
