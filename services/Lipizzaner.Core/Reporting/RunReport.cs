using System.Globalization;
using System.Text;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;

namespace Lipizzaner.Core.Reporting;

/// <summary>Writes <c>report.md</c>: the run's settings, scores and links to every other output.</summary>
public static class RunReport
{
    public static void Write(
        RunFolder folder, LipizzanerConfig config, GridTopology topology, RunResult result, ClassifierInfo? classifier)
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        var parameters = config.Trainer.Params;
        text.AppendLine("# Lipizzaner run report");
        text.AppendLine();
        text.AppendLine(invariant, $"- Grid: {topology.Width}×{topology.Height} ({topology.CellCount} cells), {config.Runtime.Mode} mode");
        text.AppendLine(invariant, $"- Network: `{NetworkFactory.ConfigName(config.Network.Name)}`, loss `{LossName(config.Network.Loss)}`, opponents `{config.Trainer.Params.Opponent.ToString().ToLowerInvariant()}`");
        text.AppendLine(invariant, $"- Generations: {result.Generations}; batch size {config.DataLoader.BatchSize}, {(config.DataLoader.NBatches == 0 ? "full epoch" : $"{config.DataLoader.NBatches} batches")} per generation");
        text.AppendLine(invariant, $"- Population {parameters.PopulationSize}, tournament {parameters.TournamentSize}, learning rate {parameters.DefaultAdamLearningRate}, seed {config.General.Seed}");
        if (classifier is not null)
        {
            text.AppendLine(invariant, $"- FID features: MNIST classifier logits; classifier test accuracy {classifier.TestAccuracy:P2} ({classifier.Correct}/{classifier.Total})");
        }

        text.AppendLine("- Effective configuration: [config.yml](config.yml)");
        text.AppendLine();

        string label = ScoreKinds.Label(parameters.Score.Type);
        text.AppendLine("## Final scores");
        text.AppendLine();
        text.AppendLine(parameters.Score.Type switch
        {
            ScoreKind.InceptionScore => string.Create(invariant, $"Each cell's mixture, scored on {parameters.Score.FinalSampleSize} samples (higher is better)."),
            ScoreKind.Fid => string.Create(invariant, $"Each cell's mixture, scored on {parameters.Score.FinalSampleSize} samples against as many training images."),
            _ => string.Create(invariant, $"Each cell's mixture, scored on {parameters.Score.FinalSampleSize} samples against at most as many real images, as read before oversampling."),
        });
        text.AppendLine();
        text.AppendLine(invariant, $"| cell | {label} | TVD | mixture weights (member cell: weight) |");
        text.AppendLine("|---|---|---|---|");
        foreach (var cell in result.Cells)
        {
            string marker = result.Best?.CellIndex == cell.CellIndex ? " (best)" : "";
            text.AppendLine(invariant, $"| {cell.CellName}{marker} | {Format(cell.Score)} | {Format(cell.Tvd)} | {string.Join(", ", cell.Members.Zip(cell.Weights, (member, weight) => $"{member}: {weight.ToString("F3", invariant)}"))} |");
        }

        text.AppendLine();
        if (result.Best is { } best)
        {
            text.AppendLine(invariant, $"Best mixture: cell {best.CellName}, {label} {Format(best.Score)}. Its generators and weights are in [mixture/](mixture/{MixtureFolder.ManifestFileName}); `./lipizzaner sample --mixture {Path.Combine(folder.Root, "mixture")} --count N --out DIR` draws images from it.");
            text.AppendLine();
        }

        text.AppendLine("## Progress");
        text.AppendLine();
        text.AppendLine("- Scores per cell and generation: [scores.csv](scores.csv)");
        if (File.Exists(folder.ScorePlotPath))
        {
            text.AppendLine(invariant, $"- {label} over generations: [scores.png](scores.png)");
            text.AppendLine();
            text.AppendLine(invariant, $"![{label} over generations](scores.png)");
        }

        text.AppendLine();
        var lastSamples = LastSampleFiles(folder, topology);
        if (lastSamples.Count > 0)
        {
            text.AppendLine("## Samples of the last generation's centers");
            text.AppendLine();
            foreach (var (cellName, file) in lastSamples)
            {
                text.AppendLine(invariant, $"Cell {cellName}: ![cell {cellName}](samples/{file})");
                text.AppendLine();
            }

            text.AppendLine("All sample grids, per generation and cell: [samples/](samples/)");
            text.AppendLine();
        }

        if (config.General.CheckpointPeriod > 0)
        {
            text.AppendLine(invariant, $"Checkpoints every {config.General.CheckpointPeriod} generations: [checkpoints/](checkpoints/); `./lipizzaner train --resume {folder.Root}` continues the run.");
        }

        AtomicFile.WriteAllText(folder.ReportPath, text.ToString());
    }

    private static List<(string CellName, string File)> LastSampleFiles(RunFolder folder, GridTopology topology)
    {
        if (!Directory.Exists(folder.SamplesDirectory))
        {
            return [];
        }

        var files = Directory.GetFiles(folder.SamplesDirectory, "gen-*.png").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var last = new List<(string, string)>();
        for (int index = 0; index < topology.CellCount; index++)
        {
            string suffix = $"-cell-{topology.CellName(index)}.png";
            string? file = files.LastOrDefault(name => name.EndsWith(suffix, StringComparison.Ordinal));
            if (file is not null)
            {
                last.Add((topology.CellName(index), file));
            }
        }

        return last;
    }

    private static string LossName(LossKind loss) => loss switch
    {
        LossKind.Bce => "bceloss",
        LossKind.Mse => "mseloss",
        LossKind.Heuristic => "heuristicloss",
        _ => "mustangs",
    };

    private static string Format(double value) =>
        double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 1 ? value.ToString("F3", CultureInfo.InvariantCulture)
        : value.ToString("G4", CultureInfo.InvariantCulture);
}
