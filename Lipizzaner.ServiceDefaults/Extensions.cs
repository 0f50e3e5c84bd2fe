using Lipizzaner.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// Aspire's convention: the extensions live in Microsoft.Extensions.Hosting, so a service's
// Program.cs needs no extra using.
namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Defaults every Lipizzaner service starts with: OpenTelemetry logs, metrics and traces (with the
/// Prometheus scraping endpoint, and OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set),
/// default health checks, and the endpoints that serve them.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Prometheus text format, for scrapers.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Every health check, for readiness.</summary>
    public const string HealthPath = "/health";

    /// <summary>Only checks tagged <see cref="LiveTag"/>: liveness of the process.</summary>
    public const string AlivePath = "/alive";

    /// <summary>Tag of the health checks that <see cref="AlivePath"/> runs.</summary>
    public const string LiveTag = "live";

    /// <summary>
    /// Adds OpenTelemetry (logs, metrics and traces from ASP.NET Core, HttpClient, the runtime and
    /// every <c>Lipizzaner.*</c> meter and activity source), the Prometheus exporter and a liveness
    /// health check.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter(LipizzanerMetrics.Prefix)
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(LipizzanerMetrics.Prefix)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsInfrastructurePath(context.Request.Path))
                .AddHttpClientInstrumentation());

        // The Aspire dashboard (or any collector) receives logs, metrics and traces over OTLP; the
        // endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <see cref="MetricsPath"/>, <see cref="HealthPath"/> and <see cref="AlivePath"/> in every
    /// environment: the coordinator and the workers run on private networks where scrapers and
    /// orchestrators (Kubernetes probes, Aspire) need them. None of them is traced.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        app.MapHealthChecks(HealthPath);
        app.MapHealthChecks(AlivePath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        });
        return app;
    }

    private static bool IsInfrastructurePath(PathString path) =>
        path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(HealthPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(AlivePath, StringComparison.OrdinalIgnoreCase);
}
