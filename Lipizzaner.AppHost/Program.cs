using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// The local app model: Redis, an S3 server, the coordinator, Lipizzaner:Workers cell workers and a
// one-shot `lipizzaner submit` of Lipizzaner:RunConfig, all shown in the Aspire dashboard.
//
// Lipizzaner:Resources chooses how Redis and S3 run:
// - "executables" (the default; no container engine needed, as on this machine and HPC nodes):
//   redis-server and s3rver (installed by build/s3rver/install.sh) as local processes;
// - "containers": pinned Redis and MinIO images, for machines with a container runtime.
// The secrets Parameters:redis-password, Parameters:coordinator-token and Parameters:minio-password
// come from user secrets, or are generated when unset.
try
{
    var builder = DistributedApplication.CreateBuilder(args);
    string root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
    var settings = builder.Configuration.GetSection("Lipizzaner");
    int workers = settings.GetValue("Workers", 2);
    int capacity = settings.GetValue("WorkerCapacity", 2);
    string resources = settings["Resources"] ?? "executables";
    bool submitOnStart = settings.GetValue("SubmitOnStart", true);
    string runConfig = Path.GetFullPath(settings["RunConfig"] ?? Path.Combine("configs", "quickstart-distributed.yml"), root);
    if (workers < 0 || capacity < 1)
    {
        throw new AppHostSetupException(
            $"Lipizzaner:Workers is {workers} and Lipizzaner:WorkerCapacity is {capacity}; use 0 or more workers of capacity 1 or more.");
    }

    if (submitOnStart && !File.Exists(runConfig))
    {
        throw new AppHostSetupException(
            $"Lipizzaner:RunConfig names {runConfig}, which does not exist; point it at a run configuration such as configs/quickstart-distributed.yml.");
    }

    var redisPassword = builder.AddParameter("redis-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);
    var token = builder.AddParameter("coordinator-token", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);

    IResourceBuilder<IResourceWithEndpoints> redis;
    IResourceBuilder<IResourceWithEndpoints> s3;
    ReferenceExpression s3Connection;
    switch (resources)
    {
        case "executables":
            redis = AddRedisExecutable(builder, root, redisPassword);
            s3 = AddS3Executable(builder, root, settings["S3Directory"] ?? Path.Combine(Path.GetTempPath(), "lipizzaner-apphost", "s3"));
            // s3rver accepts its built-in access key S3RVER with any secret key.
            s3Connection = ReferenceExpression.Create(
                $"Endpoint=http://127.0.0.1:{s3.Resource.GetEndpoint("http").Property(EndpointProperty.Port)};AccessKey=S3RVER;SecretKey=S3RVER");
            break;
        case "containers":
            var minioPassword = builder.AddParameter("minio-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);
            redis = builder.AddContainer("redis", ContainerImages.Redis, ContainerImages.RedisTag)
                .WithEndpoint(targetPort: 6379, name: "tcp", scheme: "tcp")
                .WithArgs(context =>
                {
                    context.Args.Add("--requirepass");
                    context.Args.Add(redisPassword);
                    context.Args.Add("--appendonly");
                    context.Args.Add("yes");
                });
            s3 = builder.AddContainer("minio", ContainerImages.Minio, ContainerImages.MinioTag)
                .WithHttpEndpoint(targetPort: 9000, name: "http")
                .WithEnvironment("MINIO_ROOT_USER", "lipizzaner")
                .WithEnvironment("MINIO_ROOT_PASSWORD", minioPassword)
                .WithArgs("server", "/data")
                .WithHttpHealthCheck("/minio/health/live");
            s3Connection = ReferenceExpression.Create(
                $"Endpoint=http://127.0.0.1:{s3.Resource.GetEndpoint("http").Property(EndpointProperty.Port)};AccessKey=lipizzaner;SecretKey={minioPassword}");
            break;
        default:
            throw new AppHostSetupException($"Lipizzaner:Resources is '{resources}'; use executables or containers.");
    }

    var redisConnection = ReferenceExpression.Create(
        $"127.0.0.1:{redis.Resource.GetEndpoint("tcp").Property(EndpointProperty.Port)},password={redisPassword}");

    // The coordinator keeps its runs in Redis, so restarting it from the dashboard continues the run.
    var coordinator = builder.AddProject<Projects.Lipizzaner_Coordinator>("coordinator")
        .WithHttpEndpoint(name: "http")
        .WithEnvironment("ConnectionStrings__redis", redisConnection)
        .WithEnvironment("Lipizzaner__Token", token)
        .WithHttpHealthCheck("/health")
        .WaitFor(redis);
    var coordinatorEndpoint = coordinator.GetEndpoint("http");
    coordinator.OnResourceReady((_, ready, _) =>
    {
        // The port is chosen at start, so the CLI's address is printed here as well as in the dashboard.
        ready.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lipizzaner.AppHost").LogInformation(
            "Coordinator ready at {Url}; for the CLI: export LIPIZZANER_COORDINATOR={Url}", coordinatorEndpoint.Url, coordinatorEndpoint.Url);
        return Task.CompletedTask;
    });

    if (submitOnStart)
    {
        builder.AddProject<Projects.Lipizzaner_Cli>("submit")
            .WithArgs(context =>
            {
                // 'dotnet run' would take --file for itself.
                context.Args.Add("submit");
                context.Args.Add("--config");
                context.Args.Add(runConfig);
                context.Args.Add("--coordinator");
                context.Args.Add(coordinatorEndpoint);
            })
            .WithEnvironment("LIPIZZANER_TOKEN", token)
            .WaitFor(coordinator);
    }

    // Workers started without a run id join the coordinator's current run, waiting until one is submitted.
    for (int index = 1; index <= workers; index++)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"worker-{index}");
        builder.AddProject<Projects.Lipizzaner_CellWorker>(name)
            .WithHttpEndpoint(name: "http")
            .WithHttpHealthCheck("/health")
            .WithEnvironment("ConnectionStrings__redis", redisConnection)
            .WithEnvironment("ConnectionStrings__minio", s3Connection)
            .WithEnvironment("Lipizzaner__Coordinator", coordinatorEndpoint)
            .WithEnvironment("Lipizzaner__Token", token)
            .WithEnvironment("Lipizzaner__Worker__Id", name)
            .WithEnvironment("Lipizzaner__Worker__Capacity", capacity.ToString(CultureInfo.InvariantCulture))
            .WaitFor(redis)
            .WaitFor(s3)
            .WaitFor(coordinator);
    }

    await builder.Build().RunAsync().ConfigureAwait(false);
}
catch (AppHostSetupException error)
{
    // A bad setting or a missing program: one line with the fix, without a stack trace.
    await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
    return 1;
}

return 0;

// Redis keeps nothing on disk here (--save '' --appendonly no): a new AppHost session starts empty.
static IResourceBuilder<IResourceWithEndpoints> AddRedisExecutable(
    IDistributedApplicationBuilder builder, string root, IResourceBuilder<ParameterResource> password)
{
    if (!IsOnPath("redis-server"))
    {
        throw new AppHostSetupException(
            "redis-server is not on PATH; install it (for example: apt-get install -y redis-server) or run with --Lipizzaner:Resources=containers.");
    }

    var redis = builder.AddExecutable("redis", "redis-server", root).WithEndpoint(name: "tcp", scheme: "tcp");
    var endpoint = redis.GetEndpoint("tcp");
    return redis.WithArgs(context =>
    {
        context.Args.Add("--port");
        context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
        context.Args.Add("--bind");
        context.Args.Add("127.0.0.1");
        context.Args.Add("--save");
        context.Args.Add("");
        context.Args.Add("--appendonly");
        context.Args.Add("no");
        context.Args.Add("--requirepass");
        context.Args.Add(password);
    });
}

// s3rver keeps its buckets in one folder across AppHost sessions.
static IResourceBuilder<IResourceWithEndpoints> AddS3Executable(IDistributedApplicationBuilder builder, string root, string directory)
{
    Directory.CreateDirectory(directory);
    string script = Path.Combine(root, "build", "s3rver", "node_modules-root", "node_modules", "s3rver", "bin", "s3rver.js");
    if (!File.Exists(script))
    {
        InstallS3rver(root, script);
    }

    var s3 = builder.AddExecutable("minio", "node", root, script).WithHttpEndpoint(name: "http");
    var endpoint = s3.GetEndpoint("http");
    return s3.WithArgs(context =>
    {
        context.Args.Add("--directory");
        context.Args.Add(directory);
        context.Args.Add("--address");
        context.Args.Add("127.0.0.1");
        context.Args.Add("--port");
        context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
        context.Args.Add("--silent");
        context.Args.Add("--no-vhost-buckets");
    });
}

// Runs build/s3rver/install.sh (npm) once, as the CLI's first run installs what it needs.
static void InstallS3rver(string root, string script)
{
    Console.Error.WriteLine($"{script} is missing; installing s3rver with build/s3rver/install.sh");
    var start = new ProcessStartInfo("bash") { WorkingDirectory = root };
    start.ArgumentList.Add(Path.Combine(root, "build", "s3rver", "install.sh"));
    using var install = Process.Start(start)
        ?? throw new AppHostSetupException("bash could not be started to run build/s3rver/install.sh; run it by hand.");
    install.WaitForExit();
    if (install.ExitCode != 0 || !File.Exists(script))
    {
        throw new AppHostSetupException(
            $"build/s3rver/install.sh failed (exit code {install.ExitCode}); run it by hand and read its output, or use --Lipizzaner:Resources=containers.");
    }
}

static bool IsOnPath(string program) =>
    (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, program)));

/// <summary>A setting or a local program that keeps the AppHost from starting; its message names the fix.</summary>
internal sealed class AppHostSetupException(string message) : Exception(message);

/// <summary>Images of the container resources, pinned so that every machine runs the same servers.</summary>
internal static class ContainerImages
{
    public const string Redis = "redis";
    public const string RedisTag = "7.4.2";
    public const string Minio = "minio/minio";
    public const string MinioTag = "RELEASE.2025-04-22T22-12-26Z";
}
