using Lipizzaner.CellWorker.Resilience;
using Lipizzaner.CellWorker.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lipizzaner.CellWorker.Hosting;

/// <summary>
/// Settings of the cell worker process, from the section <c>Lipizzaner</c> (environment variables
/// <c>Lipizzaner__Coordinator</c>, <c>Lipizzaner__Token</c>, <c>Lipizzaner__Worker__*</c>) and the
/// connection strings <c>redis</c> and <c>minio</c>.
/// </summary>
public sealed class CellWorkerHostOptions
{
    public const string Section = "Lipizzaner";

    /// <summary>Base URL of the coordinator, e.g. <c>http://127.0.0.1:5080</c>.</summary>
    public Uri? Coordinator { get; set; }

    /// <summary>Bearer token the coordinator requires on registrations and lease calls.</summary>
    public string? Token { get; set; }

    public CellWorkerSettings Worker { get; set; } = new();

    /// <summary>StackExchange.Redis configuration string, from <c>ConnectionStrings:redis</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>S3 connection string (<c>Endpoint=http://host:port;AccessKey=...;SecretKey=...</c>), from <c>ConnectionStrings:minio</c>.</summary>
    public string? Minio { get; set; }
}

/// <summary>The section <c>Lipizzaner:Worker</c>.</summary>
public sealed class CellWorkerSettings
{
    /// <summary>The run to join. Unset joins the coordinator's current run, waiting until one is submitted.</summary>
    public string? RunId { get; set; }

    /// <summary>
    /// Folder for checkpoints and final mixtures that every worker reaches (a cluster's shared file
    /// system), used instead of S3; then <c>ConnectionStrings:minio</c> is not needed.
    /// </summary>
    public string? CheckpointFolder { get; set; }

    /// <summary>Interval of the requests for the current run while none is submitted. Default 2 s.</summary>
    public TimeSpan JoinPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Cells hosted at once, e.g. one per GPU. Default 1.</summary>
    public int Capacity { get; set; } = 1;

    /// <summary>Name of the worker at the coordinator and in log lines. Default: the host name and the process id.</summary>
    public string? Id { get; set; }

    /// <summary>Bucket of the checkpoints, created when missing.</summary>
    public string CheckpointBucket { get; set; } = "lipizzaner-checkpoints";

    /// <summary>Folder of the FID classifier. Unset selects the cache.</summary>
    public string? ClassifierDirectory { get; set; }

    /// <summary>Whether the worker exits at start when no GPU is usable (see <see cref="GpuPreflight"/>). Default false.</summary>
    public bool RequireGpu { get; set; }

    /// <summary>Interval of the lease renewals while a cell trains; at most a third of the coordinator's lease duration. Default 20 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>Registration of the cell worker's settings, its coordinator client and the service that runs <see cref="CellWorkerLoop"/>.</summary>
public static class CellWorkerServices
{
    /// <summary>Name of the <see cref="HttpClient"/> of the coordinator calls.</summary>
    public const string CoordinatorHttpClient = "coordinator";

    public static TBuilder AddCellWorker<TBuilder>(this TBuilder builder)
        where TBuilder : Microsoft.Extensions.Hosting.IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        builder.Services.AddSingleton<GpuPreflight>();
        builder.Services.AddOptions<CellWorkerHostOptions>()
            .Bind(configuration.GetSection(CellWorkerHostOptions.Section))
            .Configure(options =>
            {
                options.Redis = configuration.GetConnectionString("redis");
                options.Minio = configuration.GetConnectionString("minio");
            })
            .Validate(options => options.Coordinator is { IsAbsoluteUri: true },
                "Lipizzaner:Coordinator (Lipizzaner__Coordinator) must be the coordinator's absolute URL.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.Token),
                "Lipizzaner:Token (Lipizzaner__Token) must be set to the coordinator's bearer token.")
            .Validate(options => options.Worker.JoinPollInterval > TimeSpan.Zero,
                "Lipizzaner:Worker:JoinPollInterval (Lipizzaner__Worker__JoinPollInterval) must be more than zero (hh:mm:ss).")
            .Validate(options => options.Worker.Capacity >= 1,
                "Lipizzaner:Worker:Capacity (Lipizzaner__Worker__Capacity) must be at least 1.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.Redis),
                "ConnectionStrings:redis (ConnectionStrings__redis) must be a StackExchange.Redis configuration string.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.Minio) || !string.IsNullOrWhiteSpace(options.Worker.CheckpointFolder),
                "Set ConnectionStrings:minio (ConnectionStrings__minio) to Endpoint=http://host:port;AccessKey=...;SecretKey=..., "
                + "or Lipizzaner:Worker:CheckpointFolder (Lipizzaner__Worker__CheckpointFolder) to a folder every worker reaches.")
            .Validate(options => string.IsNullOrWhiteSpace(options.Minio) || string.IsNullOrWhiteSpace(options.Worker.CheckpointFolder),
                "ConnectionStrings:minio and Lipizzaner:Worker:CheckpointFolder are both set; set one: S3 or a shared folder for the checkpoints.")
            .ValidateOnStart();

        builder.Services.AddHttpClient(CoordinatorHttpClient, (services, http) =>
            http.BaseAddress = WithTrailingSlash(services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value.Coordinator!));
        builder.Services.AddTransient(services =>
        {
            var options = services.GetRequiredService<IOptions<CellWorkerHostOptions>>().Value;
            return new CoordinatorClient(
                services.GetRequiredService<IHttpClientFactory>().CreateClient(CoordinatorHttpClient),
                options.Token!,
                RetryOptions.Coordinator,
                services.GetRequiredService<ILoggerFactory>().CreateLogger<CoordinatorClient>(),
                WorkerId(options));
        });
        builder.Services.AddHostedService<CellWorkerService>();
        return builder;
    }

    /// <summary>The loop's settings from the validated host settings.</summary>
    public static CellWorkerOptions LoopOptions(CellWorkerHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new CellWorkerOptions
        {
            WorkerId = WorkerId(options),
            Capacity = options.Worker.Capacity,
            RedisConfiguration = options.Redis!,
            S3ConnectionString = string.IsNullOrWhiteSpace(options.Minio) ? null : options.Minio,
            CheckpointFolder = string.IsNullOrWhiteSpace(options.Worker.CheckpointFolder) ? null : options.Worker.CheckpointFolder,
            CheckpointBucket = options.Worker.CheckpointBucket,
            ClassifierDirectory = options.Worker.ClassifierDirectory,
            HeartbeatInterval = options.Worker.HeartbeatInterval,
        };
    }

    /// <summary>The configured worker id, or the host name and the process id.</summary>
    public static string WorkerId(CellWorkerHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.Worker.Id)
            ? $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}"
            : options.Worker.Id;
    }

    // A base address without the trailing '/' would drop its last path segment from every relative call.
    private static Uri WithTrailingSlash(Uri address) =>
        address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
}
