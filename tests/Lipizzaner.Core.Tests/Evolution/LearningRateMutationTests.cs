using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Runtime;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Evolution;

public sealed class LearningRateMutationTests
{
    public LearningRateMutationTests() => TorchSetup.Configure(1);

    [Fact]
    public void Mutate_AlwaysApplied_HasExpectedMeanAndSpread()
    {
        const double lr0 = 0.0002;
        var mutation = new LearningRateMutation(lr0, alpha: 1.0, probability: 1.0);
        var random = new CellRandom(7);
        const int draws = 200_000;
        var deltas = new double[draws];
        for (int i = 0; i < draws; i++)
        {
            // Start far above zero so the max(0, ·) clamp never bites.
            deltas[i] = mutation.Mutate(1.0, random) - 1.0;
        }

        double mean = deltas.Average();
        double deviation = Math.Sqrt(deltas.Select(d => (d - mean) * (d - mean)).Average());

        // δ ~ N(-lr0/10, lr0): the standard error of the mean is lr0 / sqrt(draws) ≈ 4.5e-7.
        Assert.InRange(mean, -lr0 / 10 - 3e-6, -lr0 / 10 + 3e-6);
        Assert.InRange(deviation, lr0 * 0.99, lr0 * 1.01);
    }

    [Fact]
    public void Mutate_HalfProbability_ChangesAboutHalf()
    {
        var mutation = new LearningRateMutation(0.0002, alpha: 0.0001, probability: 0.5);
        var random = new CellRandom(11);
        const int draws = 20_000;
        int changed = Enumerable.Range(0, draws).Count(_ => mutation.Mutate(0.0002, random) != 0.0002);

        Assert.InRange(changed / (double)draws, 0.48, 0.52);
    }

    [Fact]
    public void Mutate_NeverNegative()
    {
        var mutation = new LearningRateMutation(0.0002, alpha: 10, probability: 1.0);
        var random = new CellRandom(3);

        for (int i = 0; i < 1000; i++)
        {
            Assert.True(mutation.Mutate(0.00001, random) >= 0);
        }
    }

    [Fact]
    public void Apply_ChangesStepSizeOfOptimizer()
    {
        // Adam's first update of a parameter is lr · g / (|g| + eps), i.e. almost exactly lr in
        // magnitude, so the parameter change measures the learning rate the optimizer really used.
        using var individual = Individual.Create(NetworkRole.Generator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        var mutation = new LearningRateMutation(0.0002, alpha: 10, probability: 1.0);
        mutation.Apply(individual, new CellRandom(5));
        double mutated = individual.LearningRate;
        Assert.NotEqual(0.0002, mutated);

        var bias = individual.Network.parameters().Last();
        var before = bias.detach().clone();
        using (var scope = torch.NewDisposeScope())
        {
            var output = individual.Network.call(torch.randn(4, 64));
            individual.Optimizer.ZeroGrad();
            output.sum().backward();
            individual.Optimizer.Step();
        }

        var change = (bias.detach() - before).abs();
        // Parameters are float32, so the change carries about 1e-7 relative rounding.
        Assert.Equal(mutated, change.max().item<float>(), mutated * 1e-5);
        Assert.Equal(mutated, change.min().item<float>(), mutated * 1e-5);
    }
}
