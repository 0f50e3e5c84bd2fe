using Lipizzaner.CellWorker.Hosting;
using Lipizzaner.CellWorker.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lipizzaner.CellWorker.Tests.Hosting;

/// <summary>Tests of the worker process's settings. The documented names bind, and a missing setting fails with its name.</summary>
public sealed class CellWorkerServicesTests
{
    private static readonly Dictionary<string, string?> Complete = new()
    {
        ["ConnectionStrings:redis"] = "127.0.0.1:6390,password=secret",
        ["ConnectionStrings:minio"] = "Endpoint=http://127.0.0.1:9390;AccessKey=a;SecretKey=b",
        ["Lipizzaner:Coordinator"] = "http://127.0.0.1:5090/api",
        ["Lipizzaner:Token"] = "token-1",
        ["Lipizzaner:Worker:Capacity"] = "3",
        ["Lipizzaner:Worker:RunId"] = "run-1",
        ["Lipizzaner:Worker:Id"] = "worker-7",
    };

    [Fact]
    public void Settings_bind_loop_and_client()
    {
        using var host = Build(Complete);

        var settings = host.Services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value;
        var loop = CellWorkerServices.LoopOptions(settings);
        Assert.Equal("worker-7", loop.WorkerId);
        Assert.Equal(3, loop.Capacity);
        Assert.Equal("127.0.0.1:6390,password=secret", loop.RedisConfiguration);
        Assert.Equal("Endpoint=http://127.0.0.1:9390;AccessKey=a;SecretKey=b", loop.S3ConnectionString);
        Assert.Equal("run-1", settings.Worker.RunId);

        using var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(CellWorkerServices.CoordinatorHttpClient);
        Assert.Equal(new Uri("http://127.0.0.1:5090/api/"), http.BaseAddress);
        Assert.NotNull(host.Services.GetRequiredService<CoordinatorClient>());
    }

    [Fact]
    public void Worker_id_defaults_to_host_and_process()
    {
        var values = new Dictionary<string, string?>(Complete) { ["Lipizzaner:Worker:Id"] = null };
        using var host = Build(values);

        var loop = CellWorkerServices.LoopOptions(host.Services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value);
        Assert.EndsWith($"-{Environment.ProcessId}", loop.WorkerId, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Lipizzaner:Coordinator", "Lipizzaner__Coordinator")]
    [InlineData("Lipizzaner:Token", "Lipizzaner__Token")]
    [InlineData("ConnectionStrings:redis", "ConnectionStrings__redis")]
    [InlineData("ConnectionStrings:minio", "ConnectionStrings__minio")]
    public void Missing_setting_is_named(string key, string environmentName)
    {
        var values = new Dictionary<string, string?>(Complete) { [key] = null };
        using var host = Build(values);

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value);
        Assert.Contains(environmentName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_folder_replaces_S3()
    {
        var values = new Dictionary<string, string?>(Complete)
        {
            ["ConnectionStrings:minio"] = null,
            ["Lipizzaner:Worker:CheckpointFolder"] = "/scratch/lipizzaner",
            ["Lipizzaner:Worker:RunId"] = null,
        };
        using var host = Build(values);

        var settings = host.Services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value;
        var loop = CellWorkerServices.LoopOptions(settings);
        Assert.Null(loop.S3ConnectionString);
        Assert.Equal("/scratch/lipizzaner", loop.CheckpointFolder);
        Assert.Null(settings.Worker.RunId);
    }

    [Fact]
    public void Checkpoint_folder_and_S3_together_are_rejected()
    {
        var values = new Dictionary<string, string?>(Complete) { ["Lipizzaner:Worker:CheckpointFolder"] = "/scratch/lipizzaner" };
        using var host = Build(values);

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value);
        Assert.Contains("ConnectionStrings:minio and Lipizzaner:Worker:CheckpointFolder are both set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Capacity_below_one_is_rejected()
    {
        var values = new Dictionary<string, string?>(Complete) { ["Lipizzaner:Worker:Capacity"] = "0" };
        using var host = Build(values);

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value);
        Assert.Contains("Lipizzaner__Worker__Capacity", error.Message, StringComparison.Ordinal);
    }

    private static IHost Build(Dictionary<string, string?> values)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(values);
        builder.AddCellWorker();
        return builder.Build();
    }
}
