namespace Lipizzaner.Deploy.Tests.Support;

/// <summary>A Singularity / Apptainer definition file: its header keywords and its %sections.</summary>
public sealed class DefinitionFile
{
    private DefinitionFile(Dictionary<string, string> header, Dictionary<string, string> sections)
    {
        Header = header;
        Sections = sections;
    }

    public static string DefaultPath => Repository.PathOf("singularity", "lipizzaner.def");

    /// <summary>Header keywords such as Bootstrap and From, before the first section.</summary>
    public IReadOnlyDictionary<string, string> Header { get; }

    /// <summary>Body of each section by name without the %, e.g. "runscript".</summary>
    public IReadOnlyDictionary<string, string> Sections { get; }

    public static DefinitionFile Load(string? path = null)
    {
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        string? section = null;
        var body = new List<string>();
        foreach (string line in File.ReadAllLines(path ?? DefaultPath))
        {
            if (line.StartsWith('%'))
            {
                Close();
                section = line[1..].Trim();
                Assert.False(sections.ContainsKey(section), $"section %{section} appears twice");
                continue;
            }

            if (section is null)
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (!line.StartsWith('#') && colon > 0)
                {
                    header[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }
            else
            {
                body.Add(line);
            }
        }

        Close();
        return new DefinitionFile(header, sections);

        void Close()
        {
            if (section is not null)
            {
                sections[section] = string.Join('\n', body).Trim('\n') + "\n";
            }

            body.Clear();
        }
    }

    /// <summary>Writes a section as a POSIX sh script, as Singularity runs it, and returns the file's path.</summary>
    public string WriteScript(string section, string folder)
    {
        string path = Path.Combine(folder, section + ".sh");
        File.WriteAllText(path, "#!/bin/sh\n" + Sections[section]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
