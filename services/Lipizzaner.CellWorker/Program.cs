using Lipizzaner.CellWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Lipizzaner.CellWorker;

/// <summary>
/// The cell worker process: joins the run <c>Lipizzaner:Worker:RunId</c> at the coordinator and trains
/// the cells it leases until the run ends, then exits. Settings and services are in
/// Hosting/CellWorkerServices.cs. A web host, rather than a generic one, so that the shared
/// /health, /alive and /metrics endpoints are served; set ASPNETCORE_URLS to choose its port.
/// </summary>
internal static class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddCellWorker();

        await using var app = builder.Build();
        // The GPU check (Hosting/GpuPreflight.cs) runs before any other setting is validated.
        if (app.Services.GetRequiredService<GpuPreflight>().Run() is int exitCode)
        {
            Environment.ExitCode = exitCode;
            return;
        }

        app.MapDefaultEndpoints();
        await app.RunAsync().ConfigureAwait(false);
    }
}
