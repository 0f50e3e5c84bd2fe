using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Training;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Training;

public sealed class GanLossesTests
{
    public GanLossesTests() => TorchSetup.Configure(1);

    [Fact]
    public void Generator_Bce_IsNonSaturatingLogLoss()
    {
        using var output = torch.tensor(new[] { 0.25f, 0.5f });

        double loss = GanLosses.Generator(LossKind.Bce, output).item<float>();

        Assert.Equal(-(Math.Log(0.25) + Math.Log(0.5)) / 2, loss, 1e-6);
    }

    [Fact]
    public void Generator_MseAndHeuristic_FollowTheirFormulas()
    {
        using var output = torch.tensor(new[] { 0.25f, 0.5f });

        double mse = GanLosses.Generator(LossKind.Mse, output).item<float>();
        double heuristic = GanLosses.Generator(LossKind.Heuristic, output).item<float>();

        Assert.Equal((0.75 * 0.75 + 0.5 * 0.5) / 2, mse, 1e-6);
        Assert.Equal(-0.5 * (Math.Log(0.25) + Math.Log(0.5)) / 2, heuristic, 1e-6);
    }

    [Fact]
    public void Generator_SaturatedDiscriminator_StaysFinite()
    {
        using var output = torch.zeros(3);

        Assert.True(float.IsFinite(GanLosses.Generator(LossKind.Bce, output).item<float>()));
        Assert.True(float.IsFinite(GanLosses.Generator(LossKind.Heuristic, output).item<float>()));
    }

    [Fact]
    public void Discriminator_SumsRealAndFakeTerms()
    {
        using var real = torch.tensor(new[] { 0.9f });
        using var fake = torch.tensor(new[] { 0.2f });

        double bce = GanLosses.Discriminator(LossKind.Bce, real, fake).item<float>();
        double mse = GanLosses.Discriminator(LossKind.Mse, real, fake).item<float>();
        double mustangs = GanLosses.Discriminator(LossKind.Mustangs, real, fake).item<float>();

        Assert.Equal(-Math.Log(0.9) - Math.Log(0.8), bce, 1e-6);
        Assert.Equal(0.01 + 0.04, mse, 1e-6);
        Assert.Equal(bce, mustangs, 1e-9);
    }

    [Theory]
    [InlineData(FitnessMode.Worst)]
    [InlineData(FitnessMode.Best)]
    [InlineData(FitnessMode.Average)]
    public void EvaluateAll_Mode_AggregatesOverOpponents(FitnessMode mode)
    {
        using var generator = Individual.Create(NetworkRole.Generator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var first = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var second = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 1);
        using var real = torch.rand(64, 784) * 2 - 1;

        // Evaluate against each opponent alone, then against both, from the same random state.
        double lossFirst = Evaluate([first]);
        double lossSecond = Evaluate([second]);
        double combined = Evaluate([first, second]);

        double expected = mode switch
        {
            FitnessMode.Worst => Math.Max(lossFirst, lossSecond),
            FitnessMode.Best => Math.Min(lossFirst, lossSecond),
            _ => (lossFirst + lossSecond) / 2,
        };
        Assert.Equal(expected, combined, 1e-6);

        double Evaluate(Individual[] discriminators)
        {
            using var random = new torch.Generator(9);
            GanSteps.EvaluateAll([generator], discriminators, real, mode, LossKind.Bce, LossKind.Bce, random);
            return generator.Fitness;
        }
    }
}
