using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Lipizzaner.CellWorker.Tests.Servers;

/// <summary>
/// A private s3rver (an S3-protocol server from npm, version 3.7.1) on 127.0.0.1 with a free port
/// and a temporary data folder. It runs as a child node process, stopped by its PID, and can be
/// stopped and started again on the same port and folder. The first use runs
/// build/s3rver/install.sh, which installs s3rver into a git-ignored folder and corrects the XML
/// namespace of its list responses.
/// </summary>
public sealed class S3ServerFixture : IAsyncLifetime, IAsyncDisposable
{
    private const string PackageFolder = "build/s3rver/node_modules-root/node_modules/s3rver";
    private const string WrongNamespace = "http://doc.s3.amazonaws.com/2006-03-01/";
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private readonly string _directory = Directory.CreateTempSubdirectory("lpz-s3-").FullName;
    private ChildProcess? _server;

    public int Port { get; } = ChildProcess.FreeLoopbackPort();

    /// <summary>s3rver's built-in access key. s3rver accepts any secret key with it, so credentials cannot be tested against it.</summary>
    public string AccessKey { get; } = "S3RVER";

    public string SecretKey { get; } = "secret-" + RandomNumberGenerator.GetHexString(24, lowercase: true);

    public string ConnectionString => $"Endpoint=http://127.0.0.1:{Port};AccessKey={AccessKey};SecretKey={SecretKey}";

    public static async Task<S3ServerFixture> StartNewAsync()
    {
        var fixture = new S3ServerFixture();
        await fixture.InitializeAsync();
        return fixture;
    }

    public async Task InitializeAsync()
    {
        await EnsureInstalledAsync();
        await StartAsync();
    }

    public async Task StartAsync()
    {
        string script = Path.Combine(RepositoryRoot(), PackageFolder, "bin", "s3rver.js");
        string[] arguments =
        [
            script,
            "--directory", _directory,
            "--address", "127.0.0.1",
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--silent",
            "--no-vhost-buckets",
        ];
        var server = ChildProcess.Start("node", arguments, _directory);
        _server = server;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (server.HasExited)
            {
                break;
            }

            if (await AnswersAsync())
            {
                return;
            }

            await Task.Delay(100);
        }

        string output = server.RecentOutput;
        Stop();
        throw new InvalidOperationException($"s3rver on 127.0.0.1:{Port} did not respond to HTTP within 20 s. Its output:\n{output}");
    }

    public void Stop()
    {
        _server?.Dispose();
        _server = null;
    }

    public Task DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{Port}/"));
            return true;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or SocketException)
        {
            return false;
        }
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            string root = RepositoryRoot();
            string package = Path.Combine(root, PackageFolder);
            bool installed = File.Exists(Path.Combine(package, "bin", "s3rver.js"))
                && !Directory.EnumerateFiles(Path.Combine(package, "lib", "controllers"), "*.js")
                    .Any(file => File.ReadAllText(file).Contains(WrongNamespace, StringComparison.Ordinal));
            if (installed)
            {
                return;
            }

            var install = ChildProcess.Start("bash", [Path.Combine(root, "build", "s3rver", "install.sh")], root);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            while (!install.HasExited)
            {
                await Task.Delay(200, timeout.Token);
            }

            if (!File.Exists(Path.Combine(package, "bin", "s3rver.js")))
            {
                throw new InvalidOperationException(
                    $"build/s3rver/install.sh did not install s3rver (needs node and npm). Its output:\n{install.RecentOutput}");
            }
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>
    /// The repository root: LIPIZZANER_REPO_ROOT when set, else the nearest folder above the test
    /// binaries, else above this source file, that has build/s3rver/install.sh.
    /// </summary>
    private static string RepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        string? configured = Environment.GetEnvironmentVariable("LIPIZZANER_REPO_ROOT");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        foreach (string start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "build", "s3rver", "install.sh")))
                {
                    return folder.FullName;
                }
            }
        }

        throw new InvalidOperationException(
            "Cannot find the repository root: no build/s3rver/install.sh above the test binaries. Set LIPIZZANER_REPO_ROOT.");
    }
}
