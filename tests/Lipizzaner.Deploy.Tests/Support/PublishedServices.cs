using System.Net;
using System.Net.Sockets;

namespace Lipizzaner.Deploy.Tests.Support;

/// <summary>
/// The three services published once per test run with <c>dotnet publish -c Release</c> into a
/// temporary folder, framework-dependent for linux-x64 as in the container images. The layout matches the
/// Singularity image's /opt/lipizzaner: coordinator/, cellworker/ and cli/.
/// </summary>
public sealed class PublishedServices : IAsyncLifetime
{
    public static readonly (string Project, string Folder, string Program)[] Services =
    [
        ("services/Lipizzaner.Coordinator/Lipizzaner.Coordinator.csproj", "coordinator", "Lipizzaner.Coordinator"),
        ("services/Lipizzaner.CellWorker/Lipizzaner.CellWorker.csproj", "cellworker", "Lipizzaner.CellWorker"),
        ("services/Lipizzaner.Cli/Lipizzaner.Cli.csproj", "cli", "lipizzaner"),
    ];

    public string Home { get; } = Directory.CreateTempSubdirectory("lpz-publish-").FullName;

    /// <summary>Output of each publish, by folder name, for the tests to report.</summary>
    public Dictionary<string, ProcessResult> Results { get; } = [];

    public string Program(string folder) => Path.Combine(Home, folder, Services.Single(service => service.Folder == folder).Program);

    public async Task InitializeAsync()
    {
        // One at a time: parallel publishes of projects that share Core would race on its obj folder.
        foreach (var (project, folder, _) in Services)
        {
            Results[folder] = await ProcessRunner.RunAsync(
                "dotnet",
                ["publish", project, "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-p:TorchBackend=cpu", "-o", Path.Combine(Home, folder), "--nologo", "-v", "quiet", "-nodeReuse:false"],
                TimeSpan.FromMinutes(10),
                environment: new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Home, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Fails the test unless every publish succeeded.</summary>
    public void RequireSuccess()
    {
        foreach (var (folder, result) in Results)
        {
            Assert.True(result.ExitCode == 0, $"dotnet publish of {folder} failed: {result.AllText}");
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Tests that share one publish of the services; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PublishedServicesGroup : ICollectionFixture<PublishedServices>
{
    public const string Name = "published services";
}
