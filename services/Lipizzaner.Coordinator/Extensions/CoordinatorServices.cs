using System.Text.Json;
using System.Text.Json.Serialization;
using Lipizzaner.Coordinator.Distribution;
using Lipizzaner.Coordinator.Runs;
using Lipizzaner.Coordinator.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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
}
