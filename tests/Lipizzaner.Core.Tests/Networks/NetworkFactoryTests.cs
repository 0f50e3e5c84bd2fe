using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using Lipizzaner.Core.Training;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Networks;

public sealed class NetworkFactoryTests
{
    public NetworkFactoryTests() => TorchSetup.Configure(1);

    [Theory]
    [InlineData(NetworkKind.FourLayerPerceptron, 283_920, 267_009)]
    [InlineData(NetworkKind.FiveLayerPerceptron, 616_208, 599_297)]
    [InlineData(NetworkKind.Cnn28, 3_445_377, 2_634_113)]
    [InlineData(NetworkKind.Cnn64, 3_575_617, 2_764_481)]
    [InlineData(NetworkKind.Cnn128, 17_571_457, 6_854_529)]
    public void ParameterCounts_MatchReferenceArchitectures(NetworkKind kind, long generatorCount, long discriminatorCount)
    {
        using var generator = NetworkFactory.CreateGenerator(kind);
        using var discriminator = NetworkFactory.CreateDiscriminator(kind);

        Assert.Equal(generatorCount, NetworkFactory.CountParameters(generator));
        Assert.Equal(discriminatorCount, NetworkFactory.CountParameters(discriminator));
    }

    [Theory]
    [InlineData(NetworkKind.FourLayerPerceptron)]
    [InlineData(NetworkKind.FiveLayerPerceptron)]
    [InlineData(NetworkKind.Cnn28)]
    [InlineData(NetworkKind.Cnn64)]
    [InlineData(NetworkKind.Cnn128)]
    public void Networks_MapLatentToImagesToProbabilities(NetworkKind kind)
    {
        var spec = NetworkFactory.Spec(kind);
        using var generator = NetworkFactory.CreateGenerator(kind);
        using var discriminator = NetworkFactory.CreateDiscriminator(kind);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();

        var images = generator.call(torch.randn(3, spec.LatentSize));
        var probabilities = discriminator.call(images);

        Assert.Equal([3L, spec.ImageSize], images.shape);
        Assert.True(images.abs().max().item<float>() <= 1f);
        Assert.Equal([3L], probabilities.shape);
        Assert.True(probabilities.min().item<float>() >= 0f);
        Assert.True(probabilities.max().item<float>() <= 1f);
    }

    [Theory]
    [InlineData(NetworkKind.FourLayerPerceptron)]
    [InlineData(NetworkKind.FiveLayerPerceptron)]
    [InlineData(NetworkKind.Cnn28)]
    [InlineData(NetworkKind.Cnn64)]
    [InlineData(NetworkKind.Cnn128)]
    public void TrainingSteps_EveryNetwork_UpdateWeights(NetworkKind kind)
    {
        using var generator = Individual.Create(NetworkRole.Generator, kind, 0.0002, torch.CPU, 0);
        using var discriminator = Individual.Create(NetworkRole.Discriminator, kind, 0.0002, torch.CPU, 0);
        using var random = new torch.Generator(1);
        using var real = torch.rand(2, generator.Spec.ImageSize) * 2 - 1;
        using var generatorBefore = generator.Network.parameters().First().detach().clone();
        using var discriminatorBefore = discriminator.Network.parameters().First().detach().clone();

        double generatorLoss = GanSteps.TrainGenerator(generator, discriminator, 2, LossKind.Bce, random);
        double discriminatorLoss = GanSteps.TrainDiscriminator(discriminator, generator, real, LossKind.Bce, random);

        Assert.True(double.IsFinite(generatorLoss));
        Assert.True(double.IsFinite(discriminatorLoss));
        Assert.Equal(1, generator.Optimizer.StepCount);
        Assert.Equal(1, discriminator.Optimizer.StepCount);
        Assert.False(TensorAssert.Identical(generatorBefore, generator.Network.parameters().First()));
        Assert.False(TensorAssert.Identical(discriminatorBefore, discriminator.Network.parameters().First()));
    }

    [Fact]
    public void FourLayerPerceptron_HasOriginalStateDictKeys()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var discriminator = NetworkFactory.CreateDiscriminator(NetworkKind.FourLayerPerceptron);

        string[] expected = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"];
        Assert.Equal(expected, generator.state_dict().Keys);
        Assert.Equal(expected, discriminator.state_dict().Keys);
    }

    [Fact]
    public void Convolutions_AreInitialisedWithSmallNormalWeights()
    {
        torch.manual_seed(1);
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.Cnn64);
        var weight = generator.state_dict()["1.weight"];

        Assert.InRange(weight.std().item<float>(), 0.019f, 0.021f);
        Assert.Equal(0f, generator.state_dict()["1.bias"].abs().sum().item<float>());
    }
}
