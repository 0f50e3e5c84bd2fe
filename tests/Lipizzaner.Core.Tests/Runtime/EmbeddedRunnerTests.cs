using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lipizzaner.Core.Tests.Runtime;

/// <summary>End-to-end runs of the embedded runner on real MNIST, kept small enough for two cores.</summary>
[Collection(MnistTestGroup.Name)]
public sealed class EmbeddedRunnerTests(MnistFixture mnist) : IDisposable
{
    private readonly TemporaryDirectory _temporary = new();

    [Fact]
    public async Task Run_TwoByTwoOnMnist_WritesOutputsAndFidFalls()
    {
        var config = SmallConfig(generations: 6, batches: 40, RunMode.Asynchronous);
        config.General.CheckpointPeriod = 3;
        var (folder, result) = await RunAsync(config, "run");

        Assert.True(File.Exists(folder.ConfigPath));
        Assert.True(File.Exists(folder.ScorePlotPath));
        Assert.True(File.Exists(folder.ReportPath));
        Assert.True(File.Exists(Path.Combine(folder.MixtureDirectory, MixtureFolder.ManifestFileName)));
        Assert.Equal(3, Directory.GetFiles(folder.MixtureDirectory, "generator-*.bin").Length);
        Assert.Equal(6 * 4, Directory.GetFiles(folder.SamplesDirectory, "*.png").Length);
        Assert.Equal(4 * 2, Directory.GetFiles(folder.CheckpointsDirectory, "*.ckpt", SearchOption.AllDirectories).Length);

        string[] lines = await File.ReadAllLinesAsync(folder.ScoresPath);
        Assert.StartsWith("generation,cell,score,tvd,loss_g,loss_d,lr_g,lr_d", lines[0], StringComparison.Ordinal);
        Assert.Equal(1 + 6 * 4, lines.Length);

        string report = await File.ReadAllTextAsync(folder.ReportPath);
        Assert.Contains("(scores.csv)", report, StringComparison.Ordinal);
        Assert.Contains("(scores.png)", report, StringComparison.Ordinal);
        Assert.Contains("mixture/mixture.json", report, StringComparison.Ordinal);
        Assert.Contains("samples/gen-0006-cell-", report, StringComparison.Ordinal);

        double first = MeanFid(folder, generation: 1);
        double last = MeanFid(folder, generation: 6);
        Assert.True(last < first, $"mean FID rose from {first} at generation 1 to {last} at generation 6");
        Assert.NotNull(result.Best);
        Assert.All(result.Cells, cell => Assert.True(double.IsFinite(cell.Score)));
    }

    [Fact]
    public async Task Lockstep_SameSeed_IsBitIdenticalForAnyParallelism()
    {
        var config = SmallConfig(generations: 3, batches: 5, RunMode.Lockstep);
        config.Runtime.Parallelism = 2;
        var (first, _) = await RunAsync(config, "parallel");
        config.Runtime.Parallelism = 1;
        var (second, _) = await RunAsync(config, "sequential");

        Assert.Equal(ScoresWithoutTimes(first), ScoresWithoutTimes(second));
        AssertSameMixture(first, second);
    }

    [Fact]
    public async Task Lockstep_DifferentSeed_Differs()
    {
        var config = SmallConfig(generations: 1, batches: 3, RunMode.Lockstep);
        var (first, _) = await RunAsync(config, "seed1");
        config.General.Seed = 2;
        var (second, _) = await RunAsync(config, "seed2");

        Assert.NotEqual(ScoresWithoutTimes(first), ScoresWithoutTimes(second));
    }

    [Fact]
    public async Task Resume_AfterCrash_EqualsUninterruptedRun()
    {
        var config = SmallConfig(generations: 4, batches: 5, RunMode.Lockstep);
        config.General.CheckpointPeriod = 2;
        var (complete, _) = await RunAsync(config, "complete");

        // Simulate a crash right after the generation-2 checkpoints: later checkpoints and the
        // final outputs are gone, and scores.csv still has rows of generations 3 and 4.
        string crashed = Path.Combine(_temporary.Path, "crashed");
        CopyDirectory(complete.Root, crashed);
        foreach (string file in Directory.GetFiles(Path.Combine(crashed, "checkpoints"), "gen-000004.ckpt", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }

        Directory.Delete(Path.Combine(crashed, "mixture"), recursive: true);
        File.Delete(Path.Combine(crashed, "report.md"));

        var (resumed, _) = await RunAsync(config, "crashed", resume: true);

        Assert.Equal(ScoresWithoutTimes(complete), ScoresWithoutTimes(resumed));
        AssertSameMixture(complete, resumed);
    }

    [Fact]
    public async Task Resume_CorruptNewestCheckpoint_FallsBackToPrevious()
    {
        var config = SmallConfig(generations: 2, batches: 3, RunMode.Lockstep);
        config.General.CheckpointPeriod = 1;
        var (complete, _) = await RunAsync(config, "complete");

        string damaged = Path.Combine(_temporary.Path, "damaged");
        CopyDirectory(complete.Root, damaged);
        string newest = Path.Combine(damaged, "checkpoints", "cell-1-0", "gen-000002.ckpt");
        byte[] content = await File.ReadAllBytesAsync(newest);
        content[content.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(newest, content);

        var (resumed, _) = await RunAsync(config, "damaged", resume: true);

        // Every cell went back to generation 1 and trained generation 2 again, to the same result.
        Assert.Equal(ScoresWithoutTimes(complete), ScoresWithoutTimes(resumed));
        AssertSameMixture(complete, resumed);
    }

    public void Dispose() => _temporary.Dispose();

    private static LipizzanerConfig SmallConfig(int generations, int batches, RunMode mode)
    {
        var config = new LipizzanerConfig();
        config.Grid.Width = 2;
        config.Grid.Height = 2;
        config.Trainer.NIterations = generations;
        config.Trainer.Params.Opponent = OpponentSource.Selected;
        config.Trainer.Params.Score.ScoreSampleSize = 500;
        config.Trainer.Params.Score.FinalSampleSize = 1000;
        config.Trainer.Params.Fitness.FitnessSampleSize = 300;
        config.DataLoader.NBatches = batches;
        config.DataLoader.SampleCount = 16;
        config.Runtime.Mode = mode;
        config.Runtime.Parallelism = 2;
        config.General.CheckpointPeriod = 0;
        return config;
    }

    private async Task<(RunFolder Folder, RunResult Result)> RunAsync(LipizzanerConfig config, string name, bool resume = false)
    {
        var folder = new RunFolder(Path.Combine(_temporary.Path, name), new GridTopology(config.Grid.Width, config.Grid.Height));
        folder.WriteConfig(ConfigLoader.ToYaml(config));
        var resources = RunResourcesForTests.Create(mnist);
        var runner = new EmbeddedRunner(config, resources, NullLogger.Instance);
        var result = await runner.RunAsync(folder, resume, CancellationToken.None);
        return (folder, result);
    }

    private static double MeanFid(RunFolder folder, int generation) =>
        folder.Records.Where(record => record.Generation == generation).Average(record => record.Score);

    /// <summary>Returns the rows of scores.csv without the wall-clock column.</summary>
    private static List<string> ScoresWithoutTimes(RunFolder folder) =>
        File.ReadAllLines(folder.ScoresPath).Select(line => line[..line.LastIndexOf(',')]).ToList();

    private static void AssertSameMixture(RunFolder expected, RunFolder actual)
    {
        var expectedFiles = Directory.GetFiles(expected.MixtureDirectory, "generator-*.bin").Order(StringComparer.Ordinal).ToList();
        var actualFiles = Directory.GetFiles(actual.MixtureDirectory, "generator-*.bin").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedFiles.Select(Path.GetFileName), actualFiles.Select(Path.GetFileName));
        for (int i = 0; i < expectedFiles.Count; i++)
        {
            Assert.True(File.ReadAllBytes(expectedFiles[i]).AsSpan().SequenceEqual(File.ReadAllBytes(actualFiles[i])),
                $"{Path.GetFileName(expectedFiles[i])} differs");
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        foreach (string directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(source, destination, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(source, destination, StringComparison.Ordinal));
        }
    }
}

/// <summary>Builds <see cref="RunResources"/> from the shared fixture without loading MNIST again.</summary>
internal static class RunResourcesForTests
{
    public static RunResources Create(MnistFixture mnist) =>
        RunResources.FromLoaded(mnist.Train, mnist.Classifier, mnist.ClassifierInfo, ownsResources: false);
}
