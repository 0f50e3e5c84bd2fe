using System.Diagnostics.CodeAnalysis;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Lipizzaner.Core.Configuration;

/// <summary>
/// <c>--set key.path=value</c> overrides. The value is read as a YAML scalar, so <c>true</c>,
/// <c>0.5</c> and quoted text mean what they would mean in the file.
/// </summary>
internal sealed class ConfigOverride
{
    private const string _usage = "expected key.path=value, for example trainer.n_iterations=50";

    private ConfigOverride(string text, string[] segments, YamlScalarNode value)
    {
        Text = text;
        Segments = segments;
        Value = value;
    }

    /// <summary>The override as given on the command line.</summary>
    public string Text { get; }

    public IReadOnlyList<string> Segments { get; }

    public YamlScalarNode Value { get; }

    /// <summary>
    /// Parses every override, or throws one <see cref="ConfigException"/> that lists all malformed ones.
    /// </summary>
    public static IReadOnlyList<ConfigOverride> ParseAll(IEnumerable<string> overrides)
    {
        var parsed = new List<ConfigOverride>();
        var errors = new List<string>();
        foreach (string text in overrides)
        {
            if (TryParse(text, out var item, out string? error))
            {
                parsed.Add(item);
            }
            else
            {
                errors.Add(error);
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigException("Invalid --set override", errors);
        }

        return parsed;
    }

    /// <summary>
    /// Applies the overrides in order to the tree, creating missing sections. Returns the nodes it
    /// inserted (values and new sections), so that messages can name --set rather than a line of the file.
    /// </summary>
    public static IReadOnlySet<YamlNode> ApplyAll(YamlMappingNode root, IReadOnlyList<ConfigOverride> overrides)
    {
        var inserted = new HashSet<YamlNode>(ReferenceEqualityComparer.Instance);
        var errors = new List<string>();
        foreach (var item in overrides)
        {
            if (item.TryApply(root, inserted, out string? error))
            {
                inserted.Add(item.Value);
            }
            else
            {
                errors.Add(error);
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigException("Invalid --set override", errors);
        }

        return inserted;
    }

    private static bool TryParse(
        string text,
        [NotNullWhen(true)] out ConfigOverride? item,
        [NotNullWhen(false)] out string? error)
    {
        item = null;
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            error = $"'{text}' has no '='; {_usage}";
            return false;
        }

        string path = text[..equals].Trim();
        if (path.Length == 0)
        {
            error = $"'{text}' has an empty key; {_usage}";
            return false;
        }

        string[] segments = path.Split('.');
        if (segments.Any(segment => segment.Trim().Length == 0))
        {
            error = $"'{text}': the key path '{path}' has an empty part; {_usage}";
            return false;
        }

        if (!TryParseScalar(text[(equals + 1)..], out var value, out string? valueError))
        {
            error = $"'{text}': {valueError}";
            return false;
        }

        item = new ConfigOverride(text, segments.Select(segment => segment.Trim()).ToArray(), value);
        error = null;
        return true;
    }

    private static bool TryParseScalar(
        string valueText,
        [NotNullWhen(true)] out YamlScalarNode? value,
        [NotNullWhen(false)] out string? error)
    {
        value = null;
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(valueText));
        }
        catch (Exception exception) when (exception is YamlException or InvalidOperationException)
        {
            error = $"the value is not valid YAML: {exception.Message} Quote the whole value, for example key='it''s'";
            return false;
        }

        if (stream.Documents.Count == 0)
        {
            // Nothing after '=' (or only a comment) is a YAML null, as an empty value in the file is.
            value = new YamlScalarNode("") { Style = ScalarStyle.Plain };
            error = null;
            return true;
        }

        if (stream.Documents.Count > 1 || stream.Documents[0].RootNode is not YamlScalarNode scalar)
        {
            error = "the value must be a single YAML scalar, not a mapping or list; quote it, for example key='a: b'";
            return false;
        }

        value = scalar;
        error = null;
        return true;
    }

    private bool TryApply(
        YamlMappingNode root,
        HashSet<YamlNode> inserted,
        [NotNullWhen(false)] out string? error)
    {
        var section = root;
        for (int depth = 0; depth < Segments.Count - 1; depth++)
        {
            var key = new YamlScalarNode(Segments[depth]);
            if (!section.Children.TryGetValue(key, out var child) || YamlDocumentReader.IsNullScalar(child))
            {
                // A missing section, or one written as "score:" with nothing under it, becomes a new mapping.
                child = new YamlMappingNode();
                section.Children[key] = child;
                inserted.Add(child);
            }

            if (child is not YamlMappingNode mapping)
            {
                string prefix = string.Join('.', Segments.Take(depth + 1));
                string origin = inserted.Contains(child) ? "set by an earlier --set" : $"line {child.Start.Line}";
                error = $"'{Text}': '{prefix}' is a {YamlDocumentReader.NodeKind(child)} ({origin}), "
                    + "not a section, so it has no keys to set";
                return false;
            }

            section = mapping;
        }

        section.Children[new YamlScalarNode(Segments[^1])] = Value;
        error = null;
        return true;
    }
}
