using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Scoring;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ShippedConfigTests
{
    public static TheoryData<string> ConfigFiles()
    {
        string configs = Path.Combine(RepositoryRoot(), "configs");
        var files = new TheoryData<string>();
        foreach (string path in Directory.EnumerateFiles(configs, "*.*", SearchOption.AllDirectories)
                     .Where(path => path.EndsWith(".yml", StringComparison.Ordinal)
                         || path.EndsWith(".yaml", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            files.Add(Path.GetRelativePath(RepositoryRoot(), path));
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(ConfigFiles))]
    public void ShippedConfig_LoadsWithoutWarnings(string relativePath)
    {
        var result = ConfigLoader.LoadFile(Path.Combine(RepositoryRoot(), relativePath), []);

        Assert.Empty(result.Warnings);
    }

    [Theory]
    [InlineData("configs/quickstart-mnist.yml")]
    [InlineData("configs/paper/mnist-3x3.yml")]
    [InlineData("configs/paper/mnist-6x6.yml")]
    [InlineData("configs/paper/mnist-12x12.yml")]
    [InlineData("configs/paper/mnist-18x18.yml")]
    public void ExpectedConfig_Exists(string relativePath)
    {
        Assert.True(File.Exists(Path.Combine(RepositoryRoot(), relativePath)), $"{relativePath} is missing");
    }

    [Fact]
    public void Quickstart_HasDocumentedSettings()
    {
        var config = LoadShipped("configs/quickstart-mnist.yml");

        Assert.Equal((2, 2), (config.Grid.Width, config.Grid.Height));
        Assert.Equal(NetworkKind.FourLayerPerceptron, config.Network.Name);
        Assert.Equal(LossKind.Bce, config.Network.Loss);
        Assert.Equal(1, config.Trainer.Params.PopulationSize);
        Assert.Equal(2, config.Trainer.Params.TournamentSize);
        Assert.Equal(100, config.DataLoader.BatchSize);
        Assert.Equal(0.0002, config.Trainer.Params.DefaultAdamLearningRate);
        Assert.Equal(0.0001, config.Trainer.Params.Alpha);
        Assert.Equal(0.5, config.Trainer.Params.MutationProbability);
        Assert.Equal(0, config.Trainer.Params.DiscriminatorSkipEachNthStep);
        Assert.True(config.Trainer.Params.Score.Enabled);
        Assert.Equal(1000, config.Trainer.Params.Score.ScoreSampleSize);
        Assert.Equal(5000, config.Trainer.Params.Score.FinalSampleSize);
        Assert.Equal(1000, config.Trainer.Params.Fitness.FitnessSampleSize);
        Assert.Equal(FitnessMode.Average, config.Trainer.Params.Fitness.FitnessMode);
        Assert.Equal(1, config.General.Seed);
        Assert.Equal(RunMode.Asynchronous, config.Runtime.Mode);
        Assert.InRange(config.General.CheckpointPeriod, 1, config.Trainer.NIterations);
        Assert.InRange(config.DataLoader.NBatches, 1, 600);
    }

    [Theory]
    [InlineData("configs/paper/mnist-3x3.yml", 3)]
    [InlineData("configs/paper/mnist-6x6.yml", 6)]
    [InlineData("configs/paper/mnist-12x12.yml", 12)]
    [InlineData("configs/paper/mnist-18x18.yml", 18)]
    public void PaperConfig_MatchesPublishedSettings(string relativePath, int gridSize)
    {
        var config = LoadShipped(relativePath);
        var trainer = config.Trainer.Params;

        Assert.Equal((gridSize, gridSize), (config.Grid.Width, config.Grid.Height));
        Assert.Equal(200, config.Trainer.NIterations);
        Assert.Equal(1, trainer.PopulationSize);
        Assert.Equal(2, trainer.TournamentSize);
        Assert.Equal(100, config.DataLoader.BatchSize);
        Assert.Equal(0, config.DataLoader.NBatches);
        Assert.Equal(0.0002, trainer.DefaultAdamLearningRate);
        Assert.Equal(0.0001, trainer.Alpha);
        Assert.Equal(0.5, trainer.MutationProbability);
        Assert.Equal(1, trainer.DiscriminatorSkipEachNthStep);
        Assert.Equal(0.01, trainer.MixtureSigma);
        Assert.Equal(LossKind.Bce, config.Network.Loss);
        Assert.Equal(NetworkKind.FourLayerPerceptron, config.Network.Name);
        Assert.True(trainer.Score.Enabled);
        Assert.Equal(1000, trainer.Score.ScoreSampleSize);
        Assert.Equal(1000, trainer.Fitness.FitnessSampleSize);
        Assert.Equal(FitnessMode.Average, trainer.Fitness.FitnessMode);
        Assert.Equal(10, config.General.CheckpointPeriod);
    }

    [Theory]
    [InlineData("configs/paper/covid-4lp-3x3.yml", 3, NetworkKind.FourLayerPerceptron)]
    [InlineData("configs/paper/covid-4lp-6x6.yml", 6, NetworkKind.FourLayerPerceptron)]
    [InlineData("configs/paper/covid-4lp-12x12.yml", 12, NetworkKind.FourLayerPerceptron)]
    [InlineData("configs/paper/covid-cnn28-3x3.yml", 3, NetworkKind.Cnn28)]
    [InlineData("configs/paper/covid-cnn28-6x6.yml", 6, NetworkKind.Cnn28)]
    [InlineData("configs/paper/covid-cnn28-12x12.yml", 12, NetworkKind.Cnn28)]
    [InlineData("configs/paper/covid-cnn64-3x3.yml", 3, NetworkKind.Cnn64)]
    [InlineData("configs/paper/covid-cnn64-6x6.yml", 6, NetworkKind.Cnn64)]
    [InlineData("configs/paper/covid-cnn64-12x12.yml", 12, NetworkKind.Cnn64)]
    public void PaperCovidConfig_MatchesPublishedSettings(string relativePath, int gridSize, NetworkKind network)
    {
        var config = LoadShipped(relativePath);
        var trainer = config.Trainer.Params;

        Assert.Equal((gridSize, gridSize), (config.Grid.Width, config.Grid.Height));
        Assert.Equal(network, config.Network.Name);
        Assert.Equal(200, config.Trainer.NIterations);
        Assert.Equal(1, trainer.PopulationSize);
        Assert.Equal(2, trainer.TournamentSize);
        Assert.Equal(70, config.DataLoader.BatchSize);
        Assert.Equal(0, config.DataLoader.NBatches);
        Assert.Equal(0.0002, trainer.DefaultAdamLearningRate);
        Assert.Equal(0.0001, trainer.Alpha);
        Assert.Equal(0.5, trainer.MutationProbability);
        Assert.Equal(LossKind.Bce, config.Network.Loss);
        Assert.Equal("image_folder", config.DataLoader.DatasetName);
        Assert.Equal(15, config.DataLoader.SmoteAugmentationTimes);
        Assert.True(trainer.Score.Enabled);
        Assert.Equal(ScoreKind.Kid, trainer.Score.Type);
        Assert.Equal(0, config.DataLoader.ImageSize);
    }

    [Fact]
    public void QuickstartCovid_IsCnn64WithKid()
    {
        var config = LoadShipped("configs/quickstart-covid.yml");

        Assert.Equal((2, 2), (config.Grid.Width, config.Grid.Height));
        Assert.Equal(NetworkKind.Cnn64, config.Network.Name);
        Assert.Equal("image_folder", config.DataLoader.DatasetName);
        Assert.True(config.Trainer.Params.Score.Enabled);
        Assert.Equal(ScoreKind.Kid, config.Trainer.Params.Score.Type);
        Assert.Equal(1, config.Runtime.TorchThreads);
    }

    private static LipizzanerConfig LoadShipped(string relativePath) =>
        ConfigLoader.LoadFile(Path.Combine(RepositoryRoot(), relativePath), []).Config;
}
