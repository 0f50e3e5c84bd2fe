using Lipizzaner.Coordinator.Distribution;
using Microsoft.Extensions.Options;

namespace Lipizzaner.Coordinator.Runs;

/// <summary>
/// Evaluates the registration timeout and the run policy every
/// <see cref="DistributionOptions.PolicyInterval"/>, so a run ends (completed, finished with
/// stragglers, aborted, failed) without any request arriving.
/// </summary>
public sealed class RunPolicyService : BackgroundService
{
    private readonly RunCoordinator _coordinator;

    // Created here rather than in ExecuteAsync, which may start later on another thread: ticks of
    // the TimeProvider from the moment the service exists are not missed.
    private readonly PeriodicTimer _timer;

    public RunPolicyService(RunCoordinator coordinator, IOptions<DistributionOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _coordinator = coordinator;
        _timer = new PeriodicTimer(options.Value.PolicyInterval, time);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                _coordinator.Evaluate();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }
}
