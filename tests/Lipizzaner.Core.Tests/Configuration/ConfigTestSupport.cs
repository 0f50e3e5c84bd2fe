using System.Reflection;
using System.Text;
using Lipizzaner.Core.Configuration;

namespace Lipizzaner.Core.Tests.Configuration;

/// <summary>Helpers shared by the configuration tests.</summary>
internal static class ConfigTestSupport
{
    /// <summary>
    /// Environment variable naming the repository root, for builds outside the repository's folder tree.
    /// </summary>
    public const string RepositoryRootVariable = "LIPIZZANER_REPO_ROOT";

    public static ConfigLoadResult Load(string yaml, params string[] overrides) =>
        ConfigLoader.Load(yaml, overrides, "test.yml");

    public static ConfigException LoadInvalid(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(yaml, overrides, "test.yml"));

    /// <summary>Returns YAML that sets one dotted key path, nesting a section per path segment.</summary>
    public static string YamlFor(string path, string value)
    {
        string[] segments = path.Split('.');
        var yaml = new StringBuilder();
        for (int depth = 0; depth < segments.Length; depth++)
        {
            yaml.Append(' ', depth * 2).Append(segments[depth]).Append(':');
            yaml.Append(depth == segments.Length - 1 ? " " + value : "").Append('\n');
        }

        return yaml.ToString();
    }

    /// <summary>
    /// Returns the repository root: the nearest folder above the test binaries that contains
    /// Lipizzaner.sln, Lipizzaner.slnx or .git, else the folder named by <see cref="RepositoryRootVariable"/>.
    /// </summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Lipizzaner.sln"))
                || File.Exists(Path.Combine(folder.FullName, "Lipizzaner.slnx"))
                || Directory.Exists(Path.Combine(folder.FullName, ".git"))
                || File.Exists(Path.Combine(folder.FullName, ".git")))
            {
                return folder.FullName;
            }
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(RepositoryRootVariable);
        if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment))
        {
            return fromEnvironment;
        }

        throw new InvalidOperationException(
            $"No repository root above {AppContext.BaseDirectory}: expected a folder with Lipizzaner.sln or .git; "
            + $"set {RepositoryRootVariable} to the repository's folder");
    }

    /// <summary>
    /// Returns one "Section.Property: expected X, actual Y" line per leaf property that differs,
    /// walking the settings classes by reflection so that new properties are compared too.
    /// </summary>
    public static List<string> Differences(LipizzanerConfig expected, LipizzanerConfig actual)
    {
        var differences = new List<string>();
        CompareObjects(expected, actual, nameof(LipizzanerConfig), differences);
        return differences;
    }

    /// <summary>
    /// Returns the dotted property names of every leaf property (a value that is not a settings class).
    /// </summary>
    public static List<(string Name, object? Value)> Leaves(LipizzanerConfig config)
    {
        var leaves = new List<(string Name, object? Value)>();
        CollectLeaves(config, nameof(LipizzanerConfig), leaves);
        return leaves;
    }

    private static void CompareObjects(object expected, object actual, string name, List<string> differences)
    {
        foreach (var property in SettingsProperties(expected.GetType()))
        {
            object? expectedValue = property.GetValue(expected);
            object? actualValue = property.GetValue(actual);
            string propertyName = $"{name}.{property.Name}";
            if (IsSettingsClass(property.PropertyType) && expectedValue is not null && actualValue is not null)
            {
                CompareObjects(expectedValue, actualValue, propertyName, differences);
            }
            else if (!Equals(expectedValue, actualValue))
            {
                differences.Add($"{propertyName}: expected {expectedValue ?? "null"}, actual {actualValue ?? "null"}");
            }
        }
    }

    private static void CollectLeaves(object settings, string name, List<(string Name, object? Value)> leaves)
    {
        foreach (var property in SettingsProperties(settings.GetType()))
        {
            object? value = property.GetValue(settings);
            string propertyName = $"{name}.{property.Name}";
            if (IsSettingsClass(property.PropertyType) && value is not null)
            {
                CollectLeaves(value, propertyName, leaves);
            }
            else
            {
                leaves.Add((propertyName, value));
            }
        }
    }

    private static IEnumerable<PropertyInfo> SettingsProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(property => property.CanRead);

    private static bool IsSettingsClass(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace == typeof(LipizzanerConfig).Namespace;
}
