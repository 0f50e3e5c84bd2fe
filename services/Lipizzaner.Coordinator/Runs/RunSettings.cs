using System.Globalization;
using Lipizzaner.Coordinator.Distribution;
using Lipizzaner.Core.Configuration;

namespace Lipizzaner.Coordinator.Runs;

/// <summary>
/// The grid and ending policies of one run: the run configuration's <c>distribution</c> values where
/// set, the coordinator's <see cref="DistributionOptions"/> elsewhere. Fixed when the run is created.
/// </summary>
public sealed record RunSettings(
    int MinClients,
    int MaxClients,
    TimeSpan RegistrationTimeout,
    double FinishProportion,
    TimeSpan StragglerTimeout,
    int MaxDeadCells,
    TimeSpan LeaseDuration,
    double MaxAspectRatio)
{
    /// <summary>
    /// Merges the run's values over the coordinator's. Returns null and a sentence naming the keys when
    /// the merged values contradict each other, which the run's values alone may not show.
    /// </summary>
    public static (RunSettings? Settings, string? Problem) Resolve(DistributionOptions defaults, DistributionSettings run)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(run);
        var settings = new RunSettings(
            run.MinClients ?? defaults.MinClients,
            run.MaxClients ?? defaults.MaxClients,
            Seconds(run.RegistrationTimeout) ?? defaults.RegistrationTimeout,
            run.FinishProportion ?? defaults.FinishProportion,
            Seconds(run.StragglerTimeout) ?? defaults.StragglerTimeout,
            run.MaxDeadCells ?? defaults.MaxDeadCells,
            Seconds(run.LeaseDuration) ?? defaults.LeaseDuration,
            run.MaxAspectRatio ?? defaults.MaxAspectRatio);

        if (settings.MaxClients < settings.MinClients)
        {
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"distribution.min_clients ({settings.MinClients}) is more than distribution.max_clients ({settings.MaxClients}), where an unset key takes the coordinator's setting; set both in the run configuration."));
        }

        if (run.HeartbeatInterval is { } heartbeat && heartbeat * 3 > settings.LeaseDuration.TotalSeconds)
        {
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"distribution.heartbeat_interval ({heartbeat} s) is more than a third of the lease duration ({settings.LeaseDuration.TotalSeconds} s); lower it or set distribution.lease_duration."));
        }

        return (settings, null);
    }

    private static TimeSpan? Seconds(double? seconds) => seconds is { } value ? TimeSpan.FromSeconds(value) : null;
}
