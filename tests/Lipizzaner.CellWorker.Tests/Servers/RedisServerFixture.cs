using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Lipizzaner.CellWorker.Tests.Servers;

/// <summary>
/// A private redis-server on 127.0.0.1: a free port, no persistence, a random password. It is a
/// child process of the test run, stopped by its PID. <see cref="RestartAsync"/> stops it and starts
/// a fresh one on the same port, with empty data as after a crash without persistence.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime, IAsyncDisposable
{
    public const string ServerPath = "/usr/bin/redis-server";

    private readonly string _directory = Directory.CreateTempSubdirectory("lpz-redis-").FullName;
    private ChildProcess? _server;

    public int Port { get; } = ChildProcess.FreeLoopbackPort();

    public string Password { get; } = RandomNumberGenerator.GetHexString(32, lowercase: true);

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port},password={Password},connectTimeout=2000,asyncTimeout=2000";

    public static async Task<RedisServerFixture> StartNewAsync()
    {
        var fixture = new RedisServerFixture();
        await fixture.InitializeAsync();
        return fixture;
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(ServerPath))
        {
            throw new InvalidOperationException(
                $"{ServerPath} is missing; these tests need a real Redis server: apt-get install -y redis-server");
        }

        await StartServerAsync();
    }

    /// <summary>Stops the server and starts a new one on the same port after <paramref name="downtime"/>.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        Stop();
        await Task.Delay(downtime);
        await StartServerAsync();
    }

    public void Stop()
    {
        _server?.Dispose();
        _server = null;
    }

    public Task StartAsync() => StartServerAsync();

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

    private async Task StartServerAsync()
    {
        string[] arguments =
        [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--requirepass", Password,
            "--dir", _directory,
            "--daemonize", "no",
        ];
        var server = ChildProcess.Start(ServerPath, arguments, _directory);
        _server = server;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (server.HasExited)
            {
                break;
            }

            if (await AnswersPingAsync())
            {
                return;
            }

            await Task.Delay(50);
        }

        string output = server.RecentOutput;
        Stop();
        throw new InvalidOperationException($"redis-server on 127.0.0.1:{Port} did not respond to PING within 15 s. Its output:\n{output}");
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {Password}\r\nPING\r\n"), timeout.Token);
            var buffer = new byte[256];
            var received = new StringBuilder();
            while (!received.ToString().Contains("+PONG", StringComparison.Ordinal))
            {
                int count = await stream.ReadAsync(buffer, timeout.Token);
                if (count == 0)
                {
                    return false;
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, count));
            }

            return true;
        }
        catch (Exception error) when (error is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
