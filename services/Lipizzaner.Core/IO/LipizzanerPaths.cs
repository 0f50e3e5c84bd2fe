namespace Lipizzaner.Core.IO;

/// <summary>Default locations of files that Lipizzaner keeps between runs.</summary>
public static class LipizzanerPaths
{
    /// <summary>Environment variable that, when set, overrides <see cref="DefaultCacheDirectory"/>.</summary>
    public const string CacheVariable = "LIPIZZANER_CACHE";

    /// <summary>
    /// Cache folder for downloaded data: <c>$LIPIZZANER_CACHE</c> if set, else
    /// <c>$XDG_CACHE_HOME/lipizzaner</c> if XDG_CACHE_HOME is set to an absolute path, else
    /// <c>~/.cache/lipizzaner</c>. Read on every access, so a change to the environment takes effect at once.
    /// </summary>
    public static string DefaultCacheDirectory => ResolveCacheDirectory(
        Environment.GetEnvironmentVariable(CacheVariable),
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME"),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>
    /// Returns the cache folder that <see cref="DefaultCacheDirectory"/> returns for the given values
    /// of LIPIZZANER_CACHE, XDG_CACHE_HOME and the home folder (null or blank means unset).
    /// </summary>
    public static string ResolveCacheDirectory(string? lipizzanerCache, string? xdgCacheHome, string home)
    {
        if (!string.IsNullOrWhiteSpace(lipizzanerCache))
        {
            return Path.GetFullPath(lipizzanerCache);
        }

        // The XDG Base Directory specification treats a relative XDG_CACHE_HOME as invalid, to be ignored.
        if (!string.IsNullOrWhiteSpace(xdgCacheHome) && Path.IsPathRooted(xdgCacheHome))
        {
            return Path.Combine(xdgCacheHome, "lipizzaner");
        }

        ArgumentException.ThrowIfNullOrEmpty(home);
        return Path.Combine(home, ".cache", "lipizzaner");
    }

    /// <summary>MNIST cache folder: <c>mnist</c> under <see cref="DefaultCacheDirectory"/>.</summary>
    public static string DefaultMnistDirectory => Path.Combine(DefaultCacheDirectory, "mnist");
}
