using System.Globalization;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Runtime;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Lipizzaner.Cli.Commands;

/// <summary>
/// Shows training progress: a live bar per cell on an interactive terminal, and one log line per
/// cell and generation when output is redirected (Spectre's live display prints nothing then).
/// </summary>
public sealed class TrainingProgress : IDisposable
{
    private readonly GridTopology _topology;
    private readonly int _generations;
    private readonly ILogger _logger;
    private readonly Dictionary<int, ProgressTask> _tasks = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _display;

    private TrainingProgress(GridTopology topology, int generations, ILogger logger)
    {
        _topology = topology;
        _generations = generations;
        _logger = logger;
    }

    public static TrainingProgress Start(GridTopology topology, int generations, ILogger logger)
    {
        var progress = new TrainingProgress(topology, generations, logger);
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            progress._display = AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    lock (progress._gate)
                    {
                        for (int cell = 0; cell < topology.CellCount; cell++)
                        {
                            progress._tasks[cell] = context.AddTask($"cell {topology.CellName(cell)}", maxValue: generations);
                        }
                    }

                    ready.SetResult();
                    await progress._stopped.Task.ConfigureAwait(false);
                });
            ready.Task.Wait();
        }

        return progress;
    }

    public void Report(GenerationRecord record)
    {
        string cell = _topology.CellName(record.CellIndex);
        string fid = double.IsNaN(record.Fid) ? "n/a" : record.Fid.ToString("F2", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            if (_tasks.TryGetValue(record.CellIndex, out var task))
            {
                task.Value = record.Generation;
                task.Description = $"cell {cell}  gen {record.Generation}/{_generations}  FID {fid}";
                return;
            }
        }

        _logger.LogInformation(
            "generation {Generation}/{Generations} cell {Cell}: FID {Fid}, loss_g {LossG:F4}, loss_d {LossD:F4}, lr_g {LrG:E3}, {Seconds:F1} s",
            record.Generation, _generations, cell, fid, record.GeneratorLoss, record.DiscriminatorLoss,
            record.GeneratorLearningRate, record.Seconds);
    }

    public void Stop()
    {
        _stopped.TrySetResult();
        _display?.Wait();
    }

    public void Dispose() => Stop();
}
