namespace Lipizzaner.Core.Configuration;

/// <summary>
/// A validated configuration and the warnings found while loading it (unknown or ignored keys, capped values).
/// </summary>
public sealed record ConfigLoadResult(LipizzanerConfig Config, IReadOnlyList<string> Warnings);
