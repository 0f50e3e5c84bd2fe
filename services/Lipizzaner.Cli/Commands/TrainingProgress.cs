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
    private readonly Lock _displayGate = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _display;
    private readonly bool _interactive;
    private readonly string _scoreLabel;

    private TrainingProgress(GridTopology topology, int generations, ILogger logger, bool interactive, string scoreLabel)
    {
        _interactive = interactive;
        _scoreLabel = scoreLabel;
        _topology = topology;
        _generations = generations;
        _logger = logger;
    }

    /// <summary>
    /// Creates the progress view. On an interactive terminal the live display opens at the first
    /// report, so the log lines of data loading and resuming print before it.
    /// </summary>
    public static TrainingProgress Start(GridTopology topology, int generations, ILogger logger, string scoreLabel = "FID") =>
        new(topology, generations, logger, !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive, scoreLabel);

    private void OpenDisplay()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _display = AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                lock (_gate)
                {
                    for (int cell = 0; cell < _topology.CellCount; cell++)
                    {
                        _tasks[cell] = context.AddTask($"cell {_topology.CellName(cell)}", maxValue: _generations);
                    }
                }

                ready.SetResult();
                await _stopped.Task.ConfigureAwait(false);
            });
        ready.Task.Wait();
    }

    public void Report(GenerationRecord record)
    {
        string cell = _topology.CellName(record.CellIndex);
        string score = FormatScore(record.Score);
        if (_interactive)
        {
            lock (_displayGate)
            {
                if (_display is null && !_stopped.Task.IsCompleted)
                {
                    OpenDisplay();
                }
            }
        }

        bool shown = false;
        bool allFinished = false;
        lock (_gate)
        {
            if (_tasks.TryGetValue(record.CellIndex, out var task))
            {
                task.Value = record.Generation;
                task.Description = $"cell {cell}  gen {record.Generation}/{_generations}  {_scoreLabel} {score}";
                shown = true;
                allFinished = _tasks.Values.All(each => each.Value >= _generations);
            }
        }

        if (shown)
        {
            // Close the live display as soon as training ends, so the final log lines do not
            // interleave with its last redraw.
            if (allFinished)
            {
                Stop();
            }

            return;
        }

        _logger.LogInformation(
            "generation {Generation}/{Generations} cell {Cell}: {ScoreName} {Score}, loss_g {LossG:F4}, loss_d {LossD:F4}, lr_g {LrG:E3}, {Seconds:F1} s",
            record.Generation, _generations, cell, _scoreLabel, score, record.GeneratorLoss, record.DiscriminatorLoss,
            record.GeneratorLearningRate, record.Seconds);
    }

    /// <summary>Formats a score with 2 decimals from 1 up (FID, IS) and 4 significant digits below (KID), or n/a.</summary>
    public static string FormatScore(double value) =>
        double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 1 ? value.ToString("F2", CultureInfo.InvariantCulture)
        : value.ToString("G4", CultureInfo.InvariantCulture);

    public void Stop()
    {
        _stopped.TrySetResult();
        _display?.Wait();
    }

    public void Dispose() => Stop();
}
