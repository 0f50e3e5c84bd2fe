namespace Lipizzaner.Coordinator.Distribution;

/// <summary>
/// How the coordinator forms the grid and ends a run, bound from the configuration section
/// <c>Lipizzaner:Distribution</c> (environment: <c>Lipizzaner__Distribution__MinClients</c> and so on).
/// Durations are written as <c>hh:mm:ss</c>. Checked by <see cref="DistributionOptionsValidator"/>
/// when the service starts.
/// </summary>
public sealed class DistributionOptions
{
    public const string SectionName = "Lipizzaner:Distribution";

    /// <summary>
    /// Cells of worker capacity (the sum of the registered workers' capacities) at which the grid
    /// is built; fewer when <see cref="RegistrationTimeout"/> passes fails the run. Unit: cells. Default 4; at least 1.
    /// </summary>
    public int MinClients { get; set; } = 4;

    /// <summary>
    /// Maximum number of cells in the grid, however much capacity registers. Unit: cells. Default 64; at
    /// least <see cref="MinClients"/>.
    /// </summary>
    public int MaxClients { get; set; } = 64;

    /// <summary>
    /// How long a new run waits for <see cref="MinClients"/> cells of capacity before it fails.
    /// Unit: time span. Default 00:05:00; more than zero.
    /// </summary>
    public TimeSpan RegistrationTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Share of the cells that must complete before the straggler clock starts. Unit: fraction of
    /// the cells. Default 0.9; in (0, 1], where 1 waits for every cell.
    /// </summary>
    public double FinishProportion { get; set; } = 0.9;

    /// <summary>
    /// How long the remaining cells may run after <see cref="FinishProportion"/> of the cells
    /// completed; then the run ends and their last centers count. Unit: time span. Default
    /// 00:10:00; zero or more.
    /// </summary>
    public TimeSpan StragglerTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Maximum number of cells dead at once (lease expired, not leased again). More aborts the run.
    /// Unit: cells. Default 1; zero or more.
    /// </summary>
    public int MaxDeadCells { get; set; } = 1;

    /// <summary>
    /// How long a lease lasts without a heartbeat; workers should renew it at a third of this.
    /// Unit: time span. Default 00:01:00; more than zero.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Largest width-to-height ratio of the grid (width ≥ height). Unit: ratio. Default 2; at least 1, finite.
    /// </summary>
    public double MaxAspectRatio { get; set; } = 2;

    /// <summary>
    /// How often the run policy (registration timeout, stragglers, dead cells) is evaluated. Unit:
    /// time span. Default 00:00:05; more than zero.
    /// </summary>
    public TimeSpan PolicyInterval { get; set; } = TimeSpan.FromSeconds(5);
}
