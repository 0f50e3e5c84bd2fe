using Lipizzaner.CellWorker.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lipizzaner.CellWorker.Hosting;

/// <summary>Runs <see cref="CellWorkerLoop"/> for the configured run and stops the process once the run ended or the loop failed.</summary>
public sealed class CellWorkerService(
    CoordinatorClient client,
    IOptions<CellWorkerHostOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<CellWorkerLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var loop = new CellWorkerLoop(client, settings.Worker.RunId!, CellWorkerServices.LoopOptions(settings), logger);
        try
        {
            await loop.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            // The host logs the exception and stops. Exit code 1 marks the worker as failed for a supervisor.
            Environment.ExitCode = 1;
            throw;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
