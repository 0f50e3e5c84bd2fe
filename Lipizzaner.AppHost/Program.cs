using System.Globalization;
using Microsoft.Extensions.Configuration;

// Redis and S3 run as local executables (redis-server, and s3rver from build/s3rver/install.sh), so no
// container engine is needed. The secrets Parameters:redis-password and Parameters:coordinator-token
// come from user secrets, or are generated when unset.
// NOTE: workers join the run in Parameters:run-id and start only on request (explicit start),
// because a run id exists only after 'lipizzaner submit'. A run id given at start-up is fixed for the session.
var builder = DistributedApplication.CreateBuilder(args);
string root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
int workers = builder.Configuration.GetValue("Lipizzaner:Workers", 2);
int capacity = builder.Configuration.GetValue("Lipizzaner:WorkerCapacity", 1);

var redisPassword = builder.AddParameter("redis-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);
var token = builder.AddParameter("coordinator-token", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);
var runId = builder.AddParameter("run-id");

// Redis keeps nothing on disk (--save '' --appendonly no). s3rver keeps its buckets in one folder across AppHost runs.
var redis = builder.AddExecutable("redis", "redis-server", root)
    .WithEndpoint(name: "tcp", scheme: "tcp");
var redisEndpoint = redis.GetEndpoint("tcp");
redis.WithArgs(context =>
{
    context.Args.Add("--port");
    context.Args.Add(redisEndpoint.Property(EndpointProperty.TargetPort));
    context.Args.Add("--bind");
    context.Args.Add("127.0.0.1");
    context.Args.Add("--save");
    context.Args.Add("");
    context.Args.Add("--appendonly");
    context.Args.Add("no");
    context.Args.Add("--requirepass");
    context.Args.Add(redisPassword);
});

string s3Data = builder.Configuration["Lipizzaner:S3Directory"] ?? Path.Combine(Path.GetTempPath(), "lipizzaner-apphost", "s3");
Directory.CreateDirectory(s3Data);
var s3 = builder.AddExecutable("minio", "node", root, Path.Combine(root, "build", "s3rver", "node_modules-root", "node_modules", "s3rver", "bin", "s3rver.js"))
    .WithHttpEndpoint(name: "http");
var s3Endpoint = s3.GetEndpoint("http");
s3.WithArgs(context =>
{
    context.Args.Add("--directory");
    context.Args.Add(s3Data);
    context.Args.Add("--address");
    context.Args.Add("127.0.0.1");
    context.Args.Add("--port");
    context.Args.Add(s3Endpoint.Property(EndpointProperty.TargetPort));
    context.Args.Add("--silent");
    context.Args.Add("--no-vhost-buckets");
});

var coordinator = builder.AddProject<Projects.Lipizzaner_Coordinator>("coordinator")
    .WithHttpEndpoint(name: "http")
    .WithEnvironment("Lipizzaner__Token", token)
    .WithHttpHealthCheck("/health");
var coordinatorEndpoint = coordinator.GetEndpoint("http");

// s3rver accepts its built-in access key S3RVER with any secret key.
var redisConnection = ReferenceExpression.Create($"127.0.0.1:{redisEndpoint.Property(EndpointProperty.Port)},password={redisPassword}");
var s3Connection = ReferenceExpression.Create($"Endpoint=http://127.0.0.1:{s3Endpoint.Property(EndpointProperty.Port)};AccessKey=S3RVER;SecretKey=S3RVER");
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
        .WithEnvironment("Lipizzaner__Worker__RunId", runId)
        .WaitFor(redis)
        .WaitFor(s3)
        .WaitFor(coordinator)
        .WithExplicitStart();
}

await builder.Build().RunAsync().ConfigureAwait(false);
