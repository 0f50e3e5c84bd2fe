using System.Diagnostics;
using System.Globalization;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Lipizzaner.Benchmarks;

/// <summary>
/// Generation throughput of a 2×2 grid of 4lp GANs on MNIST (batch 100, 100 batches per
/// generation), with a baseline measured in the same process: the same G+D Adam steps in a
/// plain loop, with no selection, exchange or scoring.
/// </summary>
public static class GenerationBenchmark
{
    private const int Batches = 100;
    private const int BatchSize = 100;

    /// <summary>Runs the workload and prints one line per measurement; returns the mean per-cell generation time (score off) in seconds.</summary>
    public static async Task<double> RunAsync(int generations, int parallelism)
    {
        double scoreOffCellSeconds = double.NaN;
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var logger = loggerFactory.CreateLogger("benchmark");
        TorchSetup.Configure(1);

        var config = new LipizzanerConfig();
        config.Grid.Width = 2;
        config.Grid.Height = 2;
        config.Trainer.NIterations = generations + 1;
        config.Trainer.Params.Opponent = OpponentSource.Selected;
        config.Trainer.Params.Score.FinalSampleSize = 1000;
        config.DataLoader.BatchSize = BatchSize;
        config.DataLoader.NBatches = Batches;
        config.General.SamplePeriod = 0;
        config.Runtime.Mode = RunMode.Lockstep;
        config.Runtime.Parallelism = parallelism;

        using var resources = await RunResources.LoadAsync(config, null, logger, CancellationToken.None);
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores, {Environment.OSVersion}, .NET {Environment.Version}, torch threads per cell 1, parallelism {parallelism}");

        // Baseline: one generator and one discriminator, the same steps in a loop.
        var baseline = MeasurePlainSteps(resources, BatchSize, steps: 300);
        Console.WriteLine($"baseline plain G+D step (batch {BatchSize}, one thread): {baseline * 1000:F1} ms, {1 / baseline:F1} steps/s");

        foreach (bool scoring in new[] { false, true })
        {
            config.Trainer.Params.Score.Enabled = scoring;
            string folderPath = Path.Combine(Path.GetTempPath(), "lipizzaner-benchmark", Guid.NewGuid().ToString("N"));
            var folder = new RunFolder(folderPath, new GridTopology(2, 2));
            var runner = new EmbeddedRunner(config, resources, logger);
            var completed = new List<(DateTime Time, GenerationRecord Record)>();
            runner.GenerationCompleted += record => { lock (completed) { completed.Add((DateTime.UtcNow, record)); } };
            await runner.RunAsync(folder, resume: false, CancellationToken.None);
            Directory.Delete(folderPath, recursive: true);

            // Generation 1 warms up (first allocations, lazy initialisation); the rest are timed.
            var timed = completed.Where(entry => entry.Record.Generation > 1).ToList();
            var byGeneration = timed.GroupBy(entry => entry.Record.Generation).ToList();
            var previousEnd = completed.Where(entry => entry.Record.Generation == 1).Max(entry => entry.Time);
            var wall = new List<double>();
            foreach (var group in byGeneration.OrderBy(group => group.Key))
            {
                var end = group.Max(entry => entry.Time);
                wall.Add((end - previousEnd).TotalSeconds);
                previousEnd = end;
            }

            double cellSeconds = timed.Average(entry => entry.Record.Seconds);
            if (!scoring)
            {
                scoreOffCellSeconds = cellSeconds;
            }

            double stepsPerSecond = Batches / cellSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"2x2 4lp, score {(scoring ? "on " : "off")}: generation wall time {wall.Average():F2} s (min {wall.Min():F2}, max {wall.Max():F2}, {wall.Count} generations); per cell {cellSeconds:F2} s per generation, {stepsPerSecond:F1} batch steps/s"));
        }

        return scoreOffCellSeconds;
    }

    public static double MeasurePlainSteps(RunResources resources, int batchSize, int steps)
    {
        using var generator = Individual.Create(NetworkRole.Generator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var discriminator = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var random = new torch.Generator(1);
        using var real = resources.Train.Images.narrow(0, 0, batchSize).clone();
        for (int i = 0; i < 20; i++)
        {
            Step();
        }

        var stopwatch = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            Step();
        }

        return stopwatch.Elapsed.TotalSeconds / steps;

        void Step()
        {
            GanSteps.TrainGenerator(generator, discriminator, batchSize, LossKind.Bce, random);
            GanSteps.TrainDiscriminator(discriminator, generator, real, LossKind.Bce, random);
        }
    }
}
