using SkiaSharp;

namespace Lipizzaner.Core.Imaging;

/// <summary>
/// Chooses the font for plot text. The SkiaSharp.NativeAssets.Linux.NoDependencies build (4.156.1)
/// does not use fontconfig: its font manager loads only the files under /usr/share/fonts/. With no
/// font there, as on a bare Debian 12, ScottPlot 5.1.59 draws no text at all and raises no error, so this
/// class also looks in the other usual font folders and honours <see cref="FontFileVariable"/>.
/// </summary>
public static class PlotFonts
{
    /// <summary>Environment variable naming a TrueType or OpenType file to use for plot text.</summary>
    public const string FontFileVariable = "LIPIZZANER_FONT";

    /// <summary>Advice to log when <see cref="Family"/> is null.</summary>
    public const string MissingFontAdvice =
        "No font was found for plot text, so score plots are drawn without labels. Install one " +
        "(on Debian: apt-get install fonts-dejavu-core) or set " + FontFileVariable + " to a .ttf file.";

    // Sans-serif families in order of preference, among those that Linux distributions package.
    private static readonly string[] _preferredFamilies =
        ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans", "Open Sans", "Arial", "Helvetica"];

    // File-name words of faces that suit axis labels less than a regular one.
    private static readonly string[] _styleWords =
        ["Mono", "Bold", "Italic", "Oblique", "Light", "Condensed", "Math"];

    private static readonly Lazy<string?> _family = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Font family for plot text, or null when no font was found. Resolved once per process, on
    /// first use: the file named by <see cref="FontFileVariable"/>, else a preferred sans-serif
    /// family under /usr/share/fonts, else any family there, else the first usable file in
    /// /usr/local/share/fonts, $XDG_DATA_HOME/fonts (~/.local/share/fonts) or ~/.fonts.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="FontFileVariable"/> is set to a file
    /// that is missing or is not a font.</exception>
    public static string? Family => _family.Value;

    private static string? Resolve()
    {
        string? fontFile = Environment.GetEnvironmentVariable(FontFileVariable);
        if (!string.IsNullOrWhiteSpace(fontFile))
        {
            return RegisterFile(fontFile) ?? throw new InvalidOperationException(
                $"{FontFileVariable} is set to {fontFile}, which is missing or is not a TrueType or OpenType " +
                $"font. Point it at a .ttf or .otf file, or unset it.");
        }

        SKFontManager manager = SKFontManager.Default;
        foreach (string preferred in _preferredFamilies)
        {
            using SKTypeface? typeface = manager.MatchFamily(preferred);
            if (typeface is { GlyphCount: > 0 }
                && string.Equals(typeface.FamilyName, preferred, StringComparison.OrdinalIgnoreCase))
            {
                return typeface.FamilyName;
            }
        }

        foreach (string installed in manager.FontFamilies.Order(StringComparer.Ordinal))
        {
            using SKTypeface? typeface = manager.MatchFamily(installed);
            if (typeface is { GlyphCount: > 0 })
            {
                return typeface.FamilyName;
            }
        }

        foreach (string file in FindFontFiles())
        {
            if (RegisterFile(file) is { } family)
            {
                return family;
            }
        }

        return null;
    }

    /// <summary>Registers a font file with ScottPlot and returns its family, or null if it is not a font.</summary>
    private static string? RegisterFile(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using SKTypeface? typeface = SKTypeface.FromFile(path);
        if (typeface is not { GlyphCount: > 0 } || string.IsNullOrEmpty(typeface.FamilyName))
        {
            return null;
        }

        ScottPlot.Fonts.AddFontFile(typeface.FamilyName, path, bold: false, italic: false);
        return typeface.FamilyName;
    }

    /// <summary>Returns font files outside /usr/share/fonts, regular sans-serif faces first.</summary>
    private static IEnumerable<string> FindFontFiles()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string? xdgData = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string userData = !string.IsNullOrWhiteSpace(xdgData) && Path.IsPathRooted(xdgData)
            ? xdgData
            : Path.Combine(home, ".local", "share");
        string[] folders = ["/usr/local/share/fonts", Path.Combine(userData, "fonts"), Path.Combine(home, ".fonts")];

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
        return folders
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", options))
            .Where(file => file.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase)
                || file.EndsWith(".otf", StringComparison.OrdinalIgnoreCase))
            .OrderBy(RankFontFile)
            .ThenBy(file => file, StringComparer.Ordinal);
    }

    // Lower is better: a regular sans-serif face suits axis labels best.
    private static int RankFontFile(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        bool sans = name.Contains("Sans", StringComparison.OrdinalIgnoreCase);
        bool styled = _styleWords.Any(style => name.Contains(style, StringComparison.OrdinalIgnoreCase));
        return (sans ? 0 : 2) + (styled ? 1 : 0);
    }
}
