namespace Lipizzaner.Core.Configuration;

/// <summary>
/// Loads a <see cref="LipizzanerConfig"/> from YAML with the original Lipizzaner's key names,
/// applies <c>--set key.path=value</c> overrides, and validates every value before training starts.
/// Every problem is reported as a <see cref="ConfigException"/> whose message names the key path,
/// the value and the valid range. Unknown and ignored keys give warnings instead.
/// </summary>
public sealed class ConfigLoader
{
    private const string _exampleConfig = "configs/quickstart-mnist.yml";

    private ConfigLoader()
    {
    }

    /// <summary>
    /// Parses YAML text, applies the overrides in order, then binds and validates the result.
    /// <paramref name="sourceName"/> names the text in messages, usually its file path.
    /// </summary>
    public static ConfigLoadResult Load(string yamlText, IEnumerable<string> overrides, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        ArgumentNullException.ThrowIfNull(overrides);
        string source = string.IsNullOrWhiteSpace(sourceName) ? "the configuration" : sourceName;

        var parsedOverrides = ConfigOverride.ParseAll(overrides);
        var root = YamlDocumentReader.ReadRoot(yamlText, source);
        var overrideNodes = ConfigOverride.ApplyAll(root, parsedOverrides);
        return ConfigBinder.Bind(root, source, overrideNodes);
    }

    /// <summary>Reads a YAML file and loads it as <see cref="Load"/> does, naming the file in messages.</summary>
    public static ConfigLoadResult LoadFile(string path, IEnumerable<string> overrides)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ConfigException($"The configuration path is empty; pass a YAML file such as {_exampleConfig}");
        }

        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new ConfigException(
                $"The configuration path {fullPath} is a folder; pass a YAML file such as {_exampleConfig}");
        }

        if (!File.Exists(fullPath))
        {
            throw new ConfigException(
                $"Configuration file not found: {fullPath}; check the path, or start from {_exampleConfig}");
        }

        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(
                $"Failed to read configuration file {fullPath}: {exception.Message}", exception);
        }

        return Load(text, overrides, path);
    }

    /// <summary>
    /// Writes the complete effective configuration as YAML: every key the loader reads, with its
    /// value, in the section layout of the original's files. Loading the output gives an equal configuration.
    /// </summary>
    public static string ToYaml(LipizzanerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return ConfigYamlWriter.Write(config);
    }
}
