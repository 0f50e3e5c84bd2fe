namespace Lipizzaner.Deploy.Tests.Support;

/// <summary>The external tools of the deployment tests. A missing tool fails the test with the package to install.</summary>
public static class Tools
{
    /// <summary>Returns the full path of <paramref name="command"/> on PATH, or fails naming the Debian package that provides it.</summary>
    public static string Require(string command, string debianPackage)
    {
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"{command} is not installed: install the Debian package {debianPackage} (apt-get install -y {debianPackage}); ./test.sh installs it when run as root.");
        return "";
    }

    /// <summary>Fails naming the package when a folder of Debian's Go sources is missing.</summary>
    public static void RequireGoSource(string importPath, string debianPackage)
    {
        string folder = Path.Combine("/usr/share/gocode/src", importPath);
        Assert.True(
            Directory.Exists(folder),
            $"{folder} is missing: install the Debian package {debianPackage} (apt-get install -y {debianPackage}); ./test.sh installs it when run as root.");
    }
}
