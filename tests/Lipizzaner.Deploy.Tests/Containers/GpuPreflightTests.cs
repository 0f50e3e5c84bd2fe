using Lipizzaner.CellWorker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lipizzaner.Deploy.Tests.Containers;

/// <summary>The cell worker's GPU preflight: the diagnosis of each missing piece and the exit decision.</summary>
public sealed class GpuPreflightTests
{
    private static readonly GpuDevice H100 = new(0, "NVIDIA H100 80GB HBM3", 85_520_809_984, 84_000_000_000);

    [Fact]
    public void Usable_gpu_has_no_problem()
    {
        Assert.Null(GpuPreflight.Diagnose(new GpuProbeResult("cuda", true, [H100], 1, "0")));
    }

    [Fact]
    public void Cpu_build_names_cuda_image()
    {
        string? problem = GpuPreflight.Diagnose(new GpuProbeResult("cpu", true, [H100], 0, null));

        Assert.NotNull(problem);
        Assert.Contains("TorchBackend=cpu", problem, StringComparison.Ordinal);
        Assert.Contains("-p:TorchBackend=cuda", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_driver_names_nv_flag()
    {
        string? problem = GpuPreflight.Diagnose(new GpuProbeResult("cuda", false, [], 0, null));

        Assert.NotNull(problem);
        Assert.Contains("libcuda.so.1", problem, StringComparison.Ordinal);
        Assert.Contains("--nv", problem, StringComparison.Ordinal);
        Assert.Contains("nvidia.com/gpu", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("none")]
    public void Hidden_devices_name_variable(string visible)
    {
        string? problem = GpuPreflight.Diagnose(new GpuProbeResult("cuda", true, [H100], 0, visible));

        Assert.NotNull(problem);
        Assert.Contains($"CUDA_VISIBLE_DEVICES='{visible}'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Driver_without_devices_names_request()
    {
        string? problem = GpuPreflight.Diagnose(new GpuProbeResult("cuda", true, [], 0, null));

        Assert.NotNull(problem);
        Assert.Contains("lists no device", problem, StringComparison.Ordinal);
        Assert.Contains("srun --gpus-per-task=1", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Unusable_devices_name_driver_version()
    {
        string? problem = GpuPreflight.Diagnose(new GpuProbeResult("cuda", true, [H100], 0, "0"));

        Assert.NotNull(problem);
        Assert.Contains("1 device(s)", problem, StringComparison.Ordinal);
        Assert.Contains("older than", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false, null)]
    [InlineData(true, false, GpuPreflight.GpuMissingExitCode)]
    [InlineData(false, true, 0)]
    [InlineData(true, true, GpuPreflight.GpuMissingExitCode)]
    public void Exit_code_follows_settings(bool requireGpu, bool preflightOnly, int? expected)
    {
        var preflight = Preflight(requireGpu, preflightOnly, out var logs);

        int? exitCode = preflight.Run(() => new GpuProbeResult("cpu", false, [], 0, null));

        Assert.Equal(expected, exitCode);
        Assert.Contains(logs, line => line.Contains("torch backend cpu", StringComparison.Ordinal));
        Assert.Equal(requireGpu, logs.Any(line => line.StartsWith("Critical", StringComparison.Ordinal)));
    }

    [Fact]
    public void Devices_logged_with_memory()
    {
        var preflight = Preflight(requireGpu: true, preflightOnly: false, out var logs);

        int? exitCode = preflight.Run(() => new GpuProbeResult("cuda", true, [H100, H100 with { Index = 1 }], 2, "0,1"));

        Assert.Null(exitCode);
        Assert.Contains(logs, line => line.Contains("CUDA available True (2 device(s)", StringComparison.Ordinal));
        Assert.Contains(logs, line => line.Contains("GPU 1: NVIDIA H100 80GB HBM3, 81559 MiB total", StringComparison.Ordinal));
    }

    [Fact]
    public void Probe_on_this_machine_reports_backend()
    {
        var result = GpuPreflight.Probe();

        Assert.Equal("cpu", result.TorchBackend);
        Assert.Equal(0, result.TorchCudaDevices);
    }

    private static GpuPreflight Preflight(bool requireGpu, bool preflightOnly, out List<string> logs)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [GpuPreflight.RequireGpuKey] = requireGpu ? "true" : "false",
            [GpuPreflight.PreflightOnlyKey] = preflightOnly ? "true" : "false",
        }).Build();
        var logger = new ListLogger();
        logs = logger.Lines;
        return new GpuPreflight(configuration, logger);
    }

    private sealed class ListLogger : ILogger<GpuPreflight>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => NullLogger.Instance.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
