using Lipizzaner.CellWorker.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lipizzaner.CellWorker.Hosting;

/// <summary>
/// Runs <see cref="CellWorkerLoop"/> for the configured run, or for the coordinator's current run when
/// none is configured (waiting until one is submitted), and stops the process once the run ended or
/// the loop failed.
/// </summary>
public sealed partial class CellWorkerService(
    CoordinatorClient client,
    IOptions<CellWorkerHostOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<CellWorkerLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            string runId = settings.Worker.RunId is { Length: > 0 } configured
                ? configured
                : await WaitForRunAsync(settings, stoppingToken).ConfigureAwait(false);
            var loop = new CellWorkerLoop(client, runId, CellWorkerServices.LoopOptions(settings), logger);
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

    private async Task<string> WaitForRunAsync(CellWorkerHostOptions settings, CancellationToken stoppingToken)
    {
        string workerId = CellWorkerServices.WorkerId(settings);
        LogWaiting(logger, workerId, settings.Coordinator!);
        while (true)
        {
            var current = await client.GetCurrentRunAsync(stoppingToken).ConfigureAwait(false);
            if (current is not null)
            {
                LogJoining(logger, workerId, current.RunId, current.State);
                return current.RunId;
            }

            await Task.Delay(settings.Worker.JoinPollInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} waits for a run to be submitted at {Coordinator}")]
    private static partial void LogWaiting(ILogger logger, string workerId, Uri coordinator);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} joins run {RunId}, which is {State}")]
    private static partial void LogJoining(ILogger logger, string workerId, string runId, string state);
}
