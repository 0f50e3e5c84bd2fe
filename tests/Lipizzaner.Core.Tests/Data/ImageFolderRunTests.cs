using System.Globalization;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Interop;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>An end-to-end run of the embedded runner on real chest X-rays.</summary>
public sealed class ImageFolderRunTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    [Fact]
    public async Task OneCellRun_WritesScoresAndSample()
    {
        string images = CopyPositiveImages(40);
        var config = SmallRunConfig(images, width: 1);
        config.Network.Name = NetworkKind.FourLayerPerceptron;
        config.Trainer.NIterations = 1;
        config.Trainer.Params.TournamentSize = 1;
        config.Trainer.Params.Score.Enabled = false;
        config.Trainer.Params.Fitness.FitnessSampleSize = 10;
        config.DataLoader.BatchSize = 10;
        config.DataLoader.SampleCount = 16;
        config.General.SamplePeriod = 1;
        string yaml = ConfigLoader.ToYaml(config);
        Assert.Empty(ConfigLoader.Load(yaml, [], "run.yml").Warnings);

        using var resources = RunResources.LoadImageFolder(config, cacheDirectory: null, NullLogger.Instance);
        var folder = new RunFolder(Path.Combine(_folder.Path, "run"), new GridTopology(1, 1));
        folder.WriteConfig(yaml);
        var result = await new EmbeddedRunner(config, resources, NullLogger.Instance).RunAsync(folder, resume: false, CancellationToken.None);

        Assert.True(resources.IsImageFolder);
        Assert.Equal(1, result.Generations);
        string[] lines = await File.ReadAllLinesAsync(folder.ScoresPath);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("1,", lines[1], StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(folder.SamplesDirectory, "*.png"));
    }

    [Fact]
    public async Task Cnn64KidRun_WritesScoresSamplesAndMixture()
    {
        string images = CopyPositiveImages(24);
        var config = SmallRunConfig(images, width: 1);
        config.Network.Name = NetworkKind.Cnn64;
        config.Trainer.NIterations = 2;
        config.Trainer.Params.TournamentSize = 1;
        config.Trainer.Params.Score.Enabled = true;
        config.Trainer.Params.Score.Type = ScoreKind.Kid;
        config.Trainer.Params.Score.ScoreSampleSize = 12;
        config.Trainer.Params.Score.FinalSampleSize = 16;
        config.Trainer.Params.Score.KidSubsets = 10;
        config.Trainer.Params.Score.KidSubsetSize = 10;
        config.Trainer.Params.Fitness.FitnessSampleSize = 8;
        config.DataLoader.BatchSize = 8;
        config.DataLoader.SampleCount = 4;
        config.General.SamplePeriod = 1;
        string yaml = ConfigLoader.ToYaml(config);
        Assert.Empty(ConfigLoader.Load(yaml, [], "run.yml").Warnings);

        using var resources = RunResources.LoadScoreModels(
            RunResources.LoadImageFolder(config, cacheDirectory: null, NullLogger.Instance), config, NullLogger.Instance);
        var folder = new RunFolder(Path.Combine(_folder.Path, "run"), new GridTopology(1, 1));
        folder.WriteConfig(yaml);
        var result = await new EmbeddedRunner(config, resources, NullLogger.Instance).RunAsync(folder, resume: false, CancellationToken.None);

        Assert.NotNull(resources.Features);
        Assert.Equal(24, resources.ScoringImages.shape[0]);
        string[] lines = await File.ReadAllLinesAsync(folder.ScoresPath);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("generation,cell,score,", lines[0], StringComparison.Ordinal);
        foreach (string line in lines.Skip(1))
        {
            Assert.True(double.TryParse(line.Split(',')[2], CultureInfo.InvariantCulture, out double kid), line);
            Assert.True(double.IsFinite(kid), line);
        }

        Assert.Equal(2, Directory.GetFiles(folder.SamplesDirectory, "*.png").Length);
        Assert.True(File.Exists(folder.ScorePlotPath));
        var best = Assert.IsType<CellResult>(result.Best);
        Assert.True(double.IsFinite(best.Score));
        Assert.Equal("kid", result.Mixture!.ScoreType);
        Assert.Equal(best.Score, result.Mixture.Score);
        Assert.Null(result.Mixture.Fid);
        Assert.Contains("| cell | KID |", await File.ReadAllTextAsync(folder.ReportPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InceptionScoreRun_BestCellHasHighestScore()
    {
        string images = CopyPositiveImages(24);
        string model = Path.Combine(_folder.Path, "classifier.onnx");
        SystemTorch.Run(
            """
            import sys, torch
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 6))
            torch.onnx.export(model, torch.zeros(2, 1, 28, 28), sys.argv[1], input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, opset_version=13)
            print("ok")
            """,
            model);
        var config = SmallRunConfig(images, width: 3);
        config.Network.Name = NetworkKind.FourLayerPerceptron;
        config.Trainer.NIterations = 2;
        config.Trainer.Params.Score.Enabled = true;
        config.Trainer.Params.Score.Type = ScoreKind.InceptionScore;
        config.Trainer.Params.Score.ClassifierOnnx = model;
        config.Trainer.Params.Score.ScoreSampleSize = 20;
        config.Trainer.Params.Score.FinalSampleSize = 50;
        config.Trainer.Params.Fitness.FitnessSampleSize = 8;
        config.DataLoader.BatchSize = 8;
        config.DataLoader.SampleCount = 4;
        config.General.SamplePeriod = 0;
        Assert.Empty(ConfigLoader.Load(ConfigLoader.ToYaml(config), [], "run.yml").Warnings);

        using var resources = RunResources.LoadScoreModels(
            RunResources.LoadImageFolder(config, cacheDirectory: null, NullLogger.Instance), config, NullLogger.Instance);
        var folder = new RunFolder(Path.Combine(_folder.Path, "run"), new GridTopology(3, 1));
        var result = await new EmbeddedRunner(config, resources, NullLogger.Instance).RunAsync(folder, resume: false, CancellationToken.None);

        Assert.NotNull(resources.OnnxClassifier);
        Assert.All(result.Cells, cell => Assert.InRange(cell.Score, 1.0, 6.0));
        Assert.True(result.Cells.Select(cell => cell.Score).Distinct().Count() > 1, "the cells' final scores should differ");
        Assert.Equal(result.Cells.Max(cell => cell.Score), result.Best!.Score);
        Assert.Equal("inception_score", result.Mixture!.ScoreType);
    }

    /// <summary>
    /// Creates the configuration the runs here share: a width×1 grid on <paramref name="images"/>, two
    /// batches per generation, no checkpoints, and one cell at a time in lockstep.
    /// </summary>
    private static LipizzanerConfig SmallRunConfig(string images, int width)
    {
        var config = new LipizzanerConfig();
        config.Grid.Width = width;
        config.Grid.Height = 1;
        config.DataLoader.DatasetName = "image_folder";
        config.DataLoader.Path = images;
        config.DataLoader.NBatches = 2;
        config.General.CheckpointPeriod = 0;
        config.Runtime.Mode = RunMode.Lockstep;
        config.Runtime.Parallelism = 1;
        return config;
    }

    private string CopyPositiveImages(int count)
    {
        string images = Path.Combine(_folder.Path, "images");
        Directory.CreateDirectory(images);
        foreach (string file in Directory.GetFiles(ImageFolderTestImages.PositiveFolder())
                     .Where(ImageFolderDataset.IsImageFile).Order(StringComparer.Ordinal).Take(count))
        {
            File.Copy(file, Path.Combine(images, Path.GetFileName(file)));
        }

        return images;
    }

    public void Dispose() => _folder.Dispose();
}
