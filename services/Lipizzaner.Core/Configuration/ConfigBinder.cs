using YamlDotNet.RepresentationModel;

namespace Lipizzaner.Core.Configuration;

/// <summary>
/// Binds a YAML tree to a <see cref="LipizzanerConfig"/> through <see cref="ConfigSchema"/>. It
/// flattens the tree to key paths, binds each path that the schema defines and records it as
/// consumed. Every path left over is an ignored key of the original, an unknown key, or a misused section.
/// </summary>
internal sealed class ConfigBinder
{
    private readonly string _source;
    private readonly IReadOnlySet<YamlNode> _overrideNodes;
    private readonly List<YamlEntry> _entries = [];
    private readonly Dictionary<string, YamlEntry> _entriesByPath = new(StringComparer.Ordinal);
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _invalidPaths = new(StringComparer.Ordinal);
    private readonly List<string> _errors = [];
    private readonly List<string> _warnings = [];

    private ConfigBinder(string source, IReadOnlySet<YamlNode> overrideNodes)
    {
        _source = source;
        _overrideNodes = overrideNodes;
    }

    /// <summary>
    /// Binds and validates the tree, or throws one <see cref="ConfigException"/> that lists every invalid value.
    /// </summary>
    public static ConfigLoadResult Bind(YamlMappingNode root, string source, IReadOnlySet<YamlNode> overrideNodes)
    {
        var binder = new ConfigBinder(source, overrideNodes);
        binder.Flatten(root, "");
        var config = new LipizzanerConfig();
        binder.BindKeys(config);
        binder.ReportLeftovers();
        ConfigChecks.Check(config, binder._invalidPaths, binder.Locate, binder._errors, binder._warnings);
        if (binder._errors.Count > 0)
        {
            throw new ConfigException($"Invalid configuration in {source}", binder._errors);
        }

        return new ConfigLoadResult(config, binder._warnings);
    }

    private void Flatten(YamlMappingNode mapping, string prefix)
    {
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { Length: > 0 } name })
            {
                string where = prefix.Length == 0 ? "the top level" : $"section '{prefix}'";
                _errors.Add($"a key in {where} (line {keyNode.Start.Line}) is not a plain name; "
                    + "expected keys such as 'population_size'");
                continue;
            }

            string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (IsInclude(valueNode))
            {
                _errors.Add($"{path}: '!include {(valueNode as YamlScalarNode)?.Value}' (line {valueNode.Start.Line}) "
                    + "is not supported; copy the included file's keys into this file");
                continue;
            }

            if (valueNode is YamlMappingNode section && ConfigSchema.IsSection(path))
            {
                Flatten(section, path);
                continue;
            }

            var entry = new YamlEntry(path, keyNode, valueNode);
            if (!_entriesByPath.TryAdd(path, entry))
            {
                // Only possible with a dotted key such as "trainer.n_iterations: 5" beside the nested form.
                _errors.Add($"{path}: set twice (line {_entriesByPath[path].Key.Start.Line} and line "
                    + $"{keyNode.Start.Line}); keep one of them");
                continue;
            }

            _entries.Add(entry);
        }
    }

    private void BindKeys(LipizzanerConfig config)
    {
        foreach (var key in ConfigSchema.Keys)
        {
            if (!_entriesByPath.TryGetValue(key.Path, out var entry))
            {
                continue;
            }

            _consumed.Add(key.Path);
            if (entry.Value is not YamlScalarNode scalarNode)
            {
                Invalid(key.Path, $"a {YamlDocumentReader.NodeKind(entry.Value)}", key.Expected);
                continue;
            }

            var scalar = ToScalarText(scalarNode);
            if (!key.TryBind(config, scalar))
            {
                Invalid(key.Path, YamlText.Describe(scalar), key.Expected);
            }
        }
    }

    private void ReportLeftovers()
    {
        foreach (var entry in _entries.Where(entry => !_consumed.Contains(entry.Path)))
        {
            string origin = _overrideNodes.Contains(entry.Value) ? "--set" : _source;
            if (FindIgnoredReason(entry.Path) is { } reason)
            {
                _warnings.Add($"key '{entry.Path}' in {origin} is ignored by this implementation: {reason}");
            }
            else if (ConfigSchema.IsSection(entry.Path))
            {
                ReportMisusedSection(entry);
            }
            else
            {
                string suggestion = SuggestKey(entry.Path) is { } known ? $"; did you mean '{known}'?" : "";

                // A key typed on the command line was meant to change this run, so a typo there
                // stops the run; unknown keys in a file (perhaps written for another version) only warn.
                if (origin == "--set")
                {
                    _errors.Add($"unknown key '{entry.Path}' in --set{suggestion}");
                }
                else
                {
                    _warnings.Add($"unknown key '{entry.Path}' in {origin} (ignored){suggestion}");
                }
            }
        }
    }

    /// <summary>
    /// Reports a section given a scalar or list value. An empty section ("score:" alone) is accepted.
    /// </summary>
    private void ReportMisusedSection(YamlEntry entry)
    {
        if (YamlDocumentReader.IsNullScalar(entry.Value))
        {
            return;
        }

        string value = entry.Value is YamlScalarNode scalar
            ? YamlText.Describe(ToScalarText(scalar))
            : $"a {YamlDocumentReader.NodeKind(entry.Value)}";
        string example = ConfigSchema.Keys.First(key => key.Path.StartsWith(entry.Path + ".", StringComparison.Ordinal))
            .Path[(entry.Path.Length + 1)..];
        Invalid(entry.Path, value, $"a section of keys such as '{example}'");
    }

    private void Invalid(string path, string value, string expected)
    {
        _invalidPaths.Add(path);
        _errors.Add($"{path}: {value} is invalid; expected {expected}{Locate(path)}");
    }

    /// <summary>Returns " (line N)" or " (from --set)" for a key present in the tree, and "" for a default.</summary>
    private string Locate(string path)
    {
        if (!_entriesByPath.TryGetValue(path, out var entry))
        {
            return "";
        }

        return _overrideNodes.Contains(entry.Value) ? " (from --set)" : $" (line {entry.Value.Start.Line})";
    }

    private static ScalarText ToScalarText(YamlScalarNode node)
    {
        string text = node.Value ?? "";
        return new ScalarText(text, YamlText.IsNull(text, YamlDocumentReader.IsPlain(node)));
    }

    private static bool IsInclude(YamlNode node) =>
        !node.Tag.IsEmpty && !node.Tag.IsNonSpecific && node.Tag.Value == "!include";

    /// <summary>Returns the reason for the nearest ignored entry at or above a path.</summary>
    private static string? FindIgnoredReason(string path)
    {
        for (string? current = path; current is not null; current = ParentOf(current))
        {
            if (ConfigSchema.FindIgnoredReason(current) is { } reason)
            {
                return reason;
            }
        }

        return null;
    }

    private static string? ParentOf(string path)
    {
        int dot = path.LastIndexOf('.');
        return dot < 0 ? null : path[..dot];
    }

    /// <summary>
    /// Suggests a known key or section for an unknown one: the only one with the same last name (a
    /// key put in the wrong section), otherwise the nearest within two edits (a typo).
    /// </summary>
    private static string? SuggestKey(string path)
    {
        string name = path[(path.LastIndexOf('.') + 1)..];
        var knownPaths = ConfigSchema.Keys.Select(key => key.Path).Concat(ConfigSchema.Sections).ToList();
        var sameName = knownPaths
            .Where(known => known.EndsWith("." + name, StringComparison.Ordinal))
            .ToList();
        if (sameName.Count == 1)
        {
            return sameName[0];
        }

        return knownPaths
            .Select(known => (Path: known, Distance: EditDistance(path, known)))
            .Where(candidate => candidate.Distance <= 2)
            .OrderBy(candidate => candidate.Distance)
            .Select(candidate => candidate.Path)
            .FirstOrDefault();
    }

    /// <summary>Returns the Levenshtein distance between two strings.</summary>
    private static int EditDistance(string first, string second)
    {
        var previous = new int[second.Length + 1];
        var current = new int[second.Length + 1];
        for (int j = 0; j <= second.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= first.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= second.Length; j++)
            {
                int substitution = previous[j - 1] + (first[i - 1] == second[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[second.Length];
    }

    private sealed record YamlEntry(string Path, YamlNode Key, YamlNode Value);
}
