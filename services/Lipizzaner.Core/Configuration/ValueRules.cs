using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Lipizzaner.Core.Configuration;

/// <summary>
/// The text of a YAML scalar and whether YAML reads it as null (an unquoted empty value, <c>~</c> or <c>null</c>).
/// </summary>
internal readonly record struct ScalarText(string Text, bool IsNull);

/// <summary>
/// The type and valid range of one configuration value: parsing, the "expected" text of messages and YAML output.
/// </summary>
internal abstract class ValueRule<T>
{
    /// <summary>The valid values in words, for example "an integer >= 1".</summary>
    public abstract string Expected { get; }

    public abstract bool TryParse(ScalarText scalar, out T value);

    /// <summary>Formats a value as YAML scalar text that <see cref="TryParse"/> reads back to the same value.</summary>
    public abstract string Format(T value);
}

internal sealed class IntRule(int min, int max = int.MaxValue) : ValueRule<int>
{
    public override string Expected => max == int.MaxValue
        ? $"an integer >= {min}"
        : $"an integer from {min} to {max}";

    public override bool TryParse(ScalarText scalar, out int value) =>
        int.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)
        && value >= min
        && value <= max;

    public override string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A finite floating-point value. <paramref name="minExclusive"/> makes the lower bound strict.</summary>
internal sealed class DoubleRule(double min, bool minExclusive = false, double max = double.PositiveInfinity)
    : ValueRule<double>
{
    public override string Expected
    {
        get
        {
            if (!double.IsPositiveInfinity(max))
            {
                return minExclusive
                    ? $"a number > {Format(min)} and <= {Format(max)}"
                    : $"a number from {Format(min)} to {Format(max)}";
            }

            return $"a finite number {(minExclusive ? ">" : ">=")} {Format(min)}";
        }
    }

    public override bool TryParse(ScalarText scalar, out double value) =>
        double.TryParse(scalar.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
        && double.IsFinite(value)
        && (minExclusive ? value > min : value >= min)
        && value <= max;

    public override string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// A boolean. Besides true and false in any letter case it accepts yes/no and on/off, because the
/// original Lipizzaner read its files with PyYAML, which follows YAML 1.1 and treats those words as booleans.
/// </summary>
internal sealed class BoolRule(params string[] extraTrueWords) : ValueRule<bool>
{
    private static readonly string[] _trueWords = ["true", "yes", "on"];
    private static readonly string[] _falseWords = ["false", "no", "off"];

    public override string Expected => extraTrueWords.Length == 0
        ? "true or false"
        : $"true, false or {string.Join(", ", extraTrueWords)} (same as true)";

    public override bool TryParse(ScalarText scalar, out bool value)
    {
        if (_trueWords.Concat(extraTrueWords).Contains(scalar.Text, StringComparer.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }

        value = false;
        return _falseWords.Contains(scalar.Text, StringComparer.OrdinalIgnoreCase);
    }

    public override string Format(bool value) => value ? "true" : "false";
}

/// <summary>
/// One of a fixed set of names, matched without regard to letter case. <paramref name="names"/> are
/// the spellings written by <see cref="Format"/>, and <paramref name="aliases"/> are accepted on input only.
/// </summary>
internal sealed class ChoiceRule<T>(
    IReadOnlyList<(string Name, T Value)> names,
    IReadOnlyList<(string Name, T Value)>? aliases = null) : ValueRule<T>
{
    private readonly IReadOnlyList<(string Name, T Value)> _aliases = aliases ?? [];

    public override string Expected
    {
        get
        {
            string choices = names.Count == 1
                ? names[0].Name
                : "one of " + string.Join(", ", names.Select(choice => choice.Name));
            return _aliases.Count == 0
                ? choices
                : $"{choices} (or the original's {string.Join(", ", _aliases.Select(alias => alias.Name))})";
        }
    }

    public override bool TryParse(ScalarText scalar, out T value)
    {
        foreach (var (name, choice) in names.Concat(_aliases))
        {
            if (string.Equals(name, scalar.Text, StringComparison.OrdinalIgnoreCase))
            {
                value = choice;
                return true;
            }
        }

        value = default!;
        return false;
    }

    public override string Format(T value)
    {
        foreach (var (name, choice) in names)
        {
            if (EqualityComparer<T>.Default.Equals(choice, value))
            {
                return name;
            }
        }

        // A value set in code that is not in the table is written quoted, so loading it reports it as invalid.
        return YamlText.Quote(value?.ToString() ?? "");
    }
}

/// <summary>Free text, where a YAML null reads as the empty string.</summary>
internal sealed class TextRule(string expected) : ValueRule<string>
{
    public override string Expected => expected;

    public override bool TryParse(ScalarText scalar, out string value)
    {
        value = scalar.IsNull ? "" : scalar.Text;
        return true;
    }

    public override string Format(string value) => YamlText.Quote(value);
}

/// <summary>A torch device name: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>, stored in lower case.</summary>
internal sealed partial class DeviceRule : ValueRule<string>
{
    public override string Expected => "cpu, cuda or cuda:N (N = GPU index >= 0)";

    public override bool TryParse(ScalarText scalar, out string value)
    {
        value = scalar.Text.ToLowerInvariant();
        return DevicePattern().IsMatch(value);
    }

    public override string Format(string value) =>
        DevicePattern().IsMatch(value) ? value : YamlText.Quote(value);

    [GeneratedRegex(@"^(cpu|cuda|cuda:\d{1,9})$", RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}

/// <summary>
/// A value that may be left unset with a YAML null. <paramref name="nullMeaning"/> describes what unset means.
/// </summary>
internal sealed class OptionalRule<T>(ValueRule<T> inner, string nullMeaning) : ValueRule<T?>
    where T : struct
{
    public override string Expected => $"{inner.Expected}, or null to {nullMeaning}";

    public override bool TryParse(ScalarText scalar, out T? value)
    {
        value = null;
        if (scalar.IsNull)
        {
            return true;
        }

        if (!inner.TryParse(scalar, out T parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    public override string Format(T? value) => value is { } set ? inner.Format(set) : "null";
}

/// <summary>YAML scalar helpers shared by the rules, the binder's messages and the writer.</summary>
internal static partial class YamlText
{
    private static readonly string[] _nullWords = ["", "~", "null", "Null", "NULL"];

    /// <summary>Returns whether YAML reads a scalar as null: only unquoted scalars can be null.</summary>
    public static bool IsNull(string text, bool isPlain) => isPlain && _nullWords.Contains(text);

    /// <summary>
    /// Writes text as a double-quoted YAML scalar, escaping quotes, backslashes and control characters.
    /// </summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2);
        quoted.Append('"');
        foreach (char character in text)
        {
            if (character is '"' or '\\')
            {
                quoted.Append('\\').Append(character);
            }
            else if (char.IsControl(character))
            {
                quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)character:x4}");
            }
            else
            {
                quoted.Append(character);
            }
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>Renders a value for a message: plain tokens as they are, anything else quoted.</summary>
    public static string Describe(ScalarText scalar)
    {
        if (scalar.IsNull && scalar.Text.Length == 0)
        {
            return "an empty value";
        }

        return PlainToken().IsMatch(scalar.Text) ? scalar.Text : Quote(scalar.Text);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.:+\-/~]+$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainToken();
}
