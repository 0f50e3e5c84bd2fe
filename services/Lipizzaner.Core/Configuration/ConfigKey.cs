namespace Lipizzaner.Core.Configuration;

/// <summary>One YAML key path bound to one <see cref="LipizzanerConfig"/> property.</summary>
internal abstract class ConfigKey(string path)
{
    /// <summary>The dotted key path, for example <c>trainer.params.population_size</c>.</summary>
    public string Path { get; } = path;

    public abstract string Expected { get; }

    /// <summary>
    /// Parses and validates a scalar and stores it in <paramref name="config"/>, or returns false when it is invalid.
    /// </summary>
    public abstract bool TryBind(LipizzanerConfig config, ScalarText scalar);

    /// <summary>Formats the property's current value as YAML scalar text.</summary>
    public abstract string FormatValue(LipizzanerConfig config);
}

internal sealed class ConfigKey<T>(
    string path,
    ValueRule<T> rule,
    Func<LipizzanerConfig, T> read,
    Action<LipizzanerConfig, T> write) : ConfigKey(path)
{
    public override string Expected => rule.Expected;

    public override bool TryBind(LipizzanerConfig config, ScalarText scalar)
    {
        if (!rule.TryParse(scalar, out T value))
        {
            return false;
        }

        write(config, value);
        return true;
    }

    public override string FormatValue(LipizzanerConfig config) => rule.Format(read(config));
}
