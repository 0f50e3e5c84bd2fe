using System.Diagnostics;
using Lipizzaner.Deploy.Tests.Support;

namespace Lipizzaner.Deploy.Tests.Containers;

/// <summary>
/// dotnet publish of every service, which the container images and the Singularity image copy,
/// and the published programs' start-up: the GPU preflight on this CPU-only machine and the
/// container health check against a running coordinator.
/// </summary>
[Collection(PublishedServicesGroup.Name)]
public sealed class PublishTests(PublishedServices published)
{
    [Fact]
    public void Publish_produces_every_program()
    {
        published.RequireSuccess();

        foreach (var (_, folder, program) in PublishedServices.Services)
        {
            Assert.True(File.Exists(published.Program(folder)), $"{folder}: the app host {program} is missing");
            Assert.True(File.Exists(Path.Combine(published.Home, folder, program + ".dll")), $"{folder}: {program}.dll is missing");
            Assert.True(File.Exists(Path.Combine(published.Home, folder, program + ".runtimeconfig.json")), $"{folder}: runtimeconfig is missing");
        }

        // Torch's native libraries travel with every service that references Core.
        Assert.True(File.Exists(Path.Combine(published.Home, "cellworker", "libtorch_cpu.so")), "cellworker: libtorch_cpu.so is missing");
        Assert.True(File.Exists(Path.Combine(published.Home, "cellworker", "libLibTorchSharp.so")), "cellworker: libLibTorchSharp.so is missing");
    }

    [Fact]
    public async Task Preflight_logs_cpu_backend()
    {
        published.RequireSuccess();

        var result = await RunWorkerAsync(new Dictionary<string, string?> { ["Lipizzaner__Worker__PreflightOnly"] = "true" });

        Assert.True(result.ExitCode == 0, result.AllText);
        Assert.Contains("torch backend cpu", result.Output, StringComparison.Ordinal);
        Assert.Contains("CUDA available False", result.Output, StringComparison.Ordinal);
        Assert.Contains("NVIDIA driver", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_gpu_missing_exits_nonzero()
    {
        published.RequireSuccess();

        // No coordinator, Redis or S3 settings: the preflight runs before they are validated.
        var result = await RunWorkerAsync(new Dictionary<string, string?> { ["Lipizzaner__Worker__RequireGpu"] = "true" });

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("GPU required", result.Output, StringComparison.Ordinal);
        Assert.Contains("TorchBackend=cpu", result.Output, StringComparison.Ordinal);
        Assert.Contains("TorchBackend=cuda", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_without_settings_names_them()
    {
        published.RequireSuccess();

        var result = await RunWorkerAsync([]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Lipizzaner__Coordinator", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthcheck_script_checks_coordinator()
    {
        published.RequireSuccess();
        int port = PublishedServices.FreePort();
        using var coordinator = ProcessRunner.StartBackground(published.Program("coordinator"), [], new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Lipizzaner__Token"] = "healthcheck-test-token-0123456789",
        });
        try
        {
            string script = Repository.PathOf("containers", "healthcheck.sh");
            var environment = new Dictionary<string, string?> { ["ASPNETCORE_HTTP_PORTS"] = $"{port}" };
            var healthy = await WaitForAsync(() => ProcessRunner.RunAsync("bash", [script, "/health"], TimeSpan.FromSeconds(30), environment: environment), TimeSpan.FromMinutes(2));
            Assert.True(healthy.ExitCode == 0, healthy.AllText);

            var alive = await ProcessRunner.RunAsync("bash", [script], TimeSpan.FromSeconds(30), environment: environment);
            Assert.True(alive.ExitCode == 0, alive.AllText);

            var missing = await ProcessRunner.RunAsync("bash", [script, "/no-such-endpoint"], TimeSpan.FromSeconds(30), environment: environment);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("404", missing.Error, StringComparison.Ordinal);
        }
        finally
        {
            coordinator.Kill();
            await coordinator.WaitForExitAsync();
        }

        var closed = await ProcessRunner.RunAsync("bash", [Repository.PathOf("containers", "healthcheck.sh")], TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string?> { ["ASPNETCORE_HTTP_PORTS"] = $"{port}" });
        Assert.Equal(1, closed.ExitCode);
        Assert.Contains($"nothing listens on 127.0.0.1:{port}", closed.Error, StringComparison.Ordinal);
    }

    private Task<ProcessResult> RunWorkerAsync(Dictionary<string, string?> environment)
    {
        // A free port, so that a worker that gets past the preflight never collides with another service.
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{PublishedServices.FreePort()}";
        return ProcessRunner.RunAsync(published.Program("cellworker"), [], TimeSpan.FromMinutes(2), environment: environment);
    }

    private static async Task<ProcessResult> WaitForAsync(Func<Task<ProcessResult>> check, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var result = await check();
            if (result.ExitCode == 0 || stopwatch.Elapsed > timeout)
            {
                return result;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }
}
