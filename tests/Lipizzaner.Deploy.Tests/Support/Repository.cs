namespace Lipizzaner.Deploy.Tests.Support;

/// <summary>Paths inside the repository that the tests run from.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder that contains Lipizzaner.sln, found by walking up from the test binaries.</summary>
    public static string Root => RootPath.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Lipizzaner.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"Lipizzaner.sln not found above {AppContext.BaseDirectory}");
    }
}
