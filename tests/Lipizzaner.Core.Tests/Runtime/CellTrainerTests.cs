using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Runtime;

/// <summary>One cell's generation on synthetic data, without scoring.</summary>
public sealed class CellTrainerTests : IDisposable
{
    private readonly TrainingData _data;

    public CellTrainerTests()
    {
        TorchSetup.Configure(1);
        using var random = new torch.Generator(5);
        _data = new TrainingData((torch.rand([400, 784], generator: random) * 2 - 1).DetachFromDisposeScope(), 28);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 5)]
    [InlineData(2, 4)]
    public async Task Generation_SkipSetting_LimitsDiscriminatorSteps(int skip, int expectedDiscriminatorSteps)
    {
        var config = Config(width: 1, height: 1);
        config.Trainer.Params.EnableSelection = false;
        config.Trainer.Params.DiscriminatorSkipEachNthStep = skip;
        config.DataLoader.BatchSize = 20;
        config.DataLoader.NBatches = 10;
        using var cell = new CellTrainer(0, config, new GridTopology(1, 1), _data, scorer: null, torch.CPU);
        cell.Initialise();

        var record = await cell.RunGenerationAsync(new InMemoryCenterExchange(), CancellationToken.None);

        Assert.Equal(1, record.Generation);
        Assert.Equal(10, cell.State.CenterGenerator.Optimizer.StepCount);
        Assert.Equal(expectedDiscriminatorSteps, cell.State.CenterDiscriminator.Optimizer.StepCount);
    }

    [Fact]
    public async Task Generation_WithNeighbours_UsesTheirCenters()
    {
        var config = Config(width: 2, height: 1);
        var topology = new GridTopology(2, 1);
        var exchange = new InMemoryCenterExchange();
        using var first = new CellTrainer(0, config, topology, _data, scorer: null, torch.CPU);
        using var second = new CellTrainer(1, config, topology, _data, scorer: null, torch.CPU);
        first.Initialise();
        second.Initialise();
        await exchange.PublishAsync(second.Center(), CancellationToken.None);

        var record = await first.RunGenerationAsync(exchange, CancellationToken.None);

        Assert.Equal([0], record.NeighbourGenerations);
        Assert.Equal([0, 1], first.MixtureMembers);
        Assert.Equal(2, record.MixtureWeights.Count);
        Assert.True(double.IsFinite(record.GeneratorLoss));
        Assert.True(double.IsFinite(record.DiscriminatorLoss));
        Assert.Equal(1, first.State.Generation);
    }

    [Fact]
    public void Initialise_SeedAndCell_DetermineWeights()
    {
        var config = Config(width: 2, height: 1);
        var topology = new GridTopology(2, 1);
        using var cellA = new CellTrainer(0, config, topology, _data, null, torch.CPU);
        using var cellAAgain = new CellTrainer(0, config, topology, _data, null, torch.CPU);
        using var cellB = new CellTrainer(1, config, topology, _data, null, torch.CPU);
        cellA.Initialise();
        cellAAgain.Initialise();
        cellB.Initialise();

        var weightA = cellA.State.CenterGenerator.Network.parameters().First();
        Assert.True(TensorAssert.Identical(weightA, cellAAgain.State.CenterGenerator.Network.parameters().First()));
        Assert.False(TensorAssert.Identical(weightA, cellB.State.CenterGenerator.Network.parameters().First()));
    }

    [Fact]
    public async Task Checkpoint_RoundTrip_ContinuesIdentically()
    {
        var config = Config(width: 1, height: 1);
        var topology = new GridTopology(1, 1);
        using var original = new CellTrainer(0, config, topology, _data, null, torch.CPU);
        original.Initialise();
        await original.RunGenerationAsync(new InMemoryCenterExchange(), CancellationToken.None);
        byte[] checkpoint = original.State.ToBytes();

        using var restored = new CellTrainer(0, config, topology, _data, null, torch.CPU);
        restored.Restore(CellState.FromBytes(checkpoint, torch.CPU));
        var expected = await original.RunGenerationAsync(new InMemoryCenterExchange(), CancellationToken.None);
        var actual = await restored.RunGenerationAsync(new InMemoryCenterExchange(), CancellationToken.None);

        Assert.Equal(expected.GeneratorLoss, actual.GeneratorLoss);
        Assert.Equal(expected.DiscriminatorLoss, actual.DiscriminatorLoss);
        Assert.Equal(expected.GeneratorLearningRate, actual.GeneratorLearningRate);
        Assert.True(TensorAssert.Identical(
            original.State.CenterGenerator.Network.parameters().Last(),
            restored.State.CenterGenerator.Network.parameters().Last()));
    }

    public void Dispose() => _data.Dispose();

    private static LipizzanerConfig Config(int width, int height)
    {
        var config = new LipizzanerConfig();
        config.Grid.Width = width;
        config.Grid.Height = height;
        config.Trainer.Params.TournamentSize = 1;
        config.Trainer.Params.Score.Enabled = false;
        config.Trainer.Params.Fitness.FitnessSampleSize = 50;
        config.DataLoader.BatchSize = 20;
        config.DataLoader.NBatches = 3;
        return config;
    }
}
