using System.Text.Json;
using System.Text.Json.Serialization;
using Lipizzaner.Coordinator.Distribution;
using Lipizzaner.Coordinator.Persistence;
using Lipizzaner.Coordinator.Runs;
using Lipizzaner.Coordinator.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lipizzaner.Coordinator.Extensions;

public static class CoordinatorServices
{
    /// <summary>
    /// Settings (validated when the host starts), the run state, the policy loop, snake_case JSON
    /// and the OpenAPI document. A <see cref="TimeProvider"/> registered before this call (a fake
    /// one in tests) is kept; otherwise the system clock is used.
    /// </summary>
    public static WebApplicationBuilder AddCoordinator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddOptions<DistributionOptions>()
            .Bind(builder.Configuration.GetSection(DistributionOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DistributionOptions>, DistributionOptionsValidator>();
        services.AddOptions<TokenOptions>()
            .Bind(builder.Configuration.GetSection(TokenOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        AddRunStore(builder);
        services.AddSingleton<RunCoordinator>();
        services.AddSingleton<BearerTokenFilter>();
        services.AddHostedService<RunPolicyService>();

        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });
        services.AddOpenApi();
        return builder;
    }

    /// <summary>
    /// Keeps the runs in Redis when <c>ConnectionStrings:redis</c> is set, so that a restarted
    /// coordinator continues them; otherwise only in this process, which a restart loses.
    /// </summary>
    private static void AddRunStore(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        string? redis = builder.Configuration.GetConnectionString("redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            services.TryAddSingleton<IRunStore, TransientRunStore>();
            return;
        }

        var options = new RunStoreOptions();
        builder.Configuration.GetSection(RunStoreOptions.SectionName).Bind(options);
        services.TryAddSingleton<IConnectionMultiplexer>(_ =>
        {
            var configuration = ConfigurationOptions.Parse(redis);
            // Keep trying in the background when Redis is down at start or later; the run store retries its reads and writes.
            configuration.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(configuration);
        });
        services.AddSingleton(services => new RedisRunStore(
            services.GetRequiredService<IConnectionMultiplexer>(), options, services.GetRequiredService<ILogger<RedisRunStore>>()));
        services.AddSingleton<IRunStore>(services => services.GetRequiredService<RedisRunStore>());
        services.AddHostedService(services => services.GetRequiredService<RedisRunStore>());
    }
}
