using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lipizzaner.ServiceDefaults;

/// <summary>
/// The meter, the activity source and every instrument of Lipizzaner's services, in one place so
/// that names and units stay consistent. <c>AddServiceDefaults</c>
/// subscribes to everything whose name starts with <c>Lipizzaner.</c>.
/// </summary>
public static class LipizzanerMetrics
{
    /// <summary>Name of the meter and of the activity source; it matches <see cref="Prefix"/>.</summary>
    public const string Name = "Lipizzaner.Runtime";

    /// <summary>The prefix that telemetry subscriptions match (meters and activity sources).</summary>
    public const string Prefix = "Lipizzaner.*";

    public static readonly Meter Meter = new(Name);

    public static readonly ActivitySource ActivitySource = new(Name);

    /// <summary>Wall-clock time of one generation of one cell, in milliseconds.</summary>
    public static readonly Histogram<double> GenerationDuration = Meter.CreateHistogram<double>(
        "lipizzaner.generation.duration", unit: "ms", description: "Time taken by one generation of one cell.");

    /// <summary>The newest FID a cell reported (lower is better).</summary>
    public static readonly Histogram<double> CellFid = Meter.CreateHistogram<double>(
        "lipizzaner.cell.fid", unit: "{fid}", description: "FID score reported by a cell.");

    /// <summary>Cell leases currently held by workers, recorded by the coordinator on each policy check.</summary>
    public static readonly Gauge<long> LeasesActive = Meter.CreateGauge<long>(
        "lipizzaner.leases.active", unit: "{lease}", description: "Cell leases currently held by workers.");

    /// <summary>Cells whose lease expired and that no worker has leased again, recorded on each policy check.</summary>
    public static readonly Gauge<long> CellsDead = Meter.CreateGauge<long>(
        "lipizzaner.cells.dead", unit: "{cell}", description: "Cells whose lease expired and that are not leased again.");

    /// <summary>Workers registered with the coordinator.</summary>
    public static readonly Counter<long> WorkersRegistered = Meter.CreateCounter<long>(
        "lipizzaner.workers.registered", unit: "{worker}", description: "Worker registrations accepted.");

    /// <summary>Runs that ended, tagged with their final state.</summary>
    public static readonly Counter<long> RunsEnded = Meter.CreateCounter<long>(
        "lipizzaner.runs.ended", unit: "{run}", description: "Runs that ended, by final state.");
}
