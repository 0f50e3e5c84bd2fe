using System.Text;

namespace Lipizzaner.Core.Configuration;

/// <summary>Writes every key of <see cref="ConfigSchema"/> with its value, nested by section in schema order.</summary>
internal static class ConfigYamlWriter
{
    private const string _indent = "  ";

    public static string Write(LipizzanerConfig config)
    {
        var root = new Section();
        foreach (var key in ConfigSchema.Keys)
        {
            string[] segments = key.Path.Split('.');
            var section = root;
            foreach (string name in segments[..^1])
            {
                section = section.GetOrAddSection(name);
            }

            section.Entries.Add(new Entry(segments[^1], null, key.FormatValue(config)));
        }

        var yaml = new StringBuilder();
        for (int index = 0; index < root.Entries.Count; index++)
        {
            if (index > 0)
            {
                // A blank line between top-level sections, as in the original's files.
                yaml.Append('\n');
            }

            WriteEntry(yaml, root.Entries[index], depth: 0);
        }

        return yaml.ToString();
    }

    private static void WriteEntry(StringBuilder yaml, Entry entry, int depth)
    {
        for (int level = 0; level < depth; level++)
        {
            yaml.Append(_indent);
        }

        if (entry.Section is null)
        {
            yaml.Append(entry.Name).Append(": ").Append(entry.Value).Append('\n');
            return;
        }

        yaml.Append(entry.Name).Append(":\n");
        foreach (var child in entry.Section.Entries)
        {
            WriteEntry(yaml, child, depth + 1);
        }
    }

    private sealed record Entry(string Name, Section? Section, string? Value);

    private sealed class Section
    {
        public List<Entry> Entries { get; } = [];

        public Section GetOrAddSection(string name)
        {
            if (Entries.FirstOrDefault(entry => entry.Name == name)?.Section is { } existing)
            {
                return existing;
            }

            var section = new Section();
            Entries.Add(new Entry(name, section, null));
            return section;
        }
    }
}
