using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Lipizzaner.Cli.Commands;
using Lipizzaner.Coordinator.Runs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Tests;

/// <summary><c>submit</c>, <c>status</c> and <c>results</c> against the coordinator in memory.</summary>
public sealed class RunCommandTests : IDisposable
{
    private const string Token = "tok-3b8e0f5d27c14a96";
    private const string Coordinator = "http://localhost/";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lipizzaner-cli-tests", Guid.NewGuid().ToString("N"));
    private readonly string? _savedToken = Environment.GetEnvironmentVariable(CoordinatorConnection.TokenVariable);
    private readonly string? _savedCoordinator = Environment.GetEnvironmentVariable(CoordinatorConnection.CoordinatorVariable);
    private readonly CoordinatorHost _host = new();
    private readonly string _config;

    public RunCommandTests()
    {
        Directory.CreateDirectory(_directory);
        _config = Path.Combine(_directory, "run.yml");
        File.WriteAllText(_config, "grid:\n  width: 2\n  height: 2\ntrainer:\n  n_iterations: 3\n");
        Environment.SetEnvironmentVariable(CoordinatorConnection.TokenVariable, null);
        Environment.SetEnvironmentVariable(CoordinatorConnection.CoordinatorVariable, null);
        CoordinatorConnection.HandlerOverride = () => _host.Server.CreateHandler();
    }

    [Fact]
    public async Task Submit_prints_id_sends_overrides()
    {
        var (exitCode, output, standardOutput) = await CommandRunner.RunWithStandardOutputAsync(
            "submit", "-f", _config, "--set", "trainer.n_iterations=7", "--coordinator", Coordinator, "--token", Token);

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        string run = standardOutput.Trim();
        Assert.Matches("^[A-Za-z0-9-]+$", run);

        using var http = _host.CreateClient();
        string status = await http.GetStringAsync(new Uri($"/runs/{run}", UriKind.Relative));
        using var document = JsonDocument.Parse(status);
        Assert.Equal(7, document.RootElement.GetProperty("generations").GetInt32());
    }

    [Fact]
    public async Task Submit_reads_environment_variables()
    {
        Environment.SetEnvironmentVariable(CoordinatorConnection.TokenVariable, Token);
        Environment.SetEnvironmentVariable(CoordinatorConnection.CoordinatorVariable, Coordinator);

        var (exitCode, output, standardOutput) = await CommandRunner.RunWithStandardOutputAsync("submit", "-f", _config);

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        Assert.NotEmpty(standardOutput.Trim());
    }

    [Fact]
    public async Task Submit_without_token_names_the_variable()
    {
        var (exitCode, output) = await CommandRunner.RunAsync("submit", "-f", _config, "--coordinator", Coordinator);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains(CoordinatorConnection.TokenVariable, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_with_wrong_token_says_it_was_rejected()
    {
        var (exitCode, output) = await CommandRunner.RunAsync("submit", "-f", _config, "--coordinator", Coordinator, "--token", "wrong");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("rejected the token", output, StringComparison.Ordinal);
        Assert.Single(output.Trim().Split('\n'));
    }

    [Fact]
    public async Task Submit_without_coordinator_names_variable()
    {
        var (exitCode, output) = await CommandRunner.RunAsync("submit", "-f", _config, "--token", Token);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("--coordinator", output, StringComparison.Ordinal);
        Assert.Contains(CoordinatorConnection.CoordinatorVariable, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_prints_text_and_json()
    {
        string run = await SubmitAsync();

        var (exitCode, output, text) = await CommandRunner.RunWithStandardOutputAsync("status", run, "--coordinator", Coordinator);
        Assert.True(exitCode == LipizzanerCommand.Success, output);
        Assert.StartsWith($"Run {run}: pending", text, StringComparison.Ordinal);
        Assert.Contains("waiting for workers (0 cells of capacity registered)", text, StringComparison.Ordinal);

        (exitCode, output, string json) = await CommandRunner.RunWithStandardOutputAsync("status", run, "--json", "--coordinator", Coordinator);
        Assert.True(exitCode == LipizzanerCommand.Success, output);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(run, document.RootElement.GetProperty("run_id").GetString());
        Assert.Equal("pending", document.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Status_of_unknown_run_reports_detail()
    {
        var (exitCode, output) = await CommandRunner.RunAsync("status", "no-such-run", "--coordinator", Coordinator);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("404", output, StringComparison.Ordinal);
        Assert.Contains("no-such-run", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Results_of_pending_run_rejected()
    {
        string run = await SubmitAsync();

        var (exitCode, output) = await CommandRunner.RunAsync("results", run, "--json", "--coordinator", Coordinator);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("409", output, StringComparison.Ordinal);
        Assert.Contains("still pending", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_coordinator_is_named()
    {
        CoordinatorConnection.HandlerOverride = null;
        string url = $"http://127.0.0.1:{FreePort()}/";

        var (exitCode, output) = await CommandRunner.RunAsync("status", "run-1", "--coordinator", url);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains($"Cannot reach the coordinator at {url}", output, StringComparison.Ordinal);
        Assert.Single(output.Trim().Split('\n'));
    }

    public void Dispose()
    {
        CoordinatorConnection.HandlerOverride = null;
        Environment.SetEnvironmentVariable(CoordinatorConnection.TokenVariable, _savedToken);
        Environment.SetEnvironmentVariable(CoordinatorConnection.CoordinatorVariable, _savedCoordinator);
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<string> SubmitAsync()
    {
        var (exitCode, output, standardOutput) = await CommandRunner.RunWithStandardOutputAsync(
            "submit", "-f", _config, "--coordinator", Coordinator, "--token", Token);
        Assert.True(exitCode == LipizzanerCommand.Success, output);
        return standardOutput.Trim();
    }

    /// <summary>Returns a loopback port that nothing listens on, by binding port 0 and releasing it.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class CoordinatorHost : WebApplicationFactory<RunCoordinator>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Lipizzaner:Token", Token);
            builder.UseSetting("Lipizzaner:Distribution:MinClients", "4");
            builder.UseSetting("Lipizzaner:Distribution:MaxClients", "4");
            builder.UseSetting("Lipizzaner:Distribution:RegistrationTimeout", "00:10:00");
            builder.ConfigureLogging(logging => logging.ClearProviders());
        }
    }
}
