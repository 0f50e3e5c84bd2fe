using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Randomness;

namespace Lipizzaner.Core.Tests.Evolution;

public sealed class MixtureEvolutionTests
{
    [Fact]
    public void Mutate_KeepsWeightsNonNegativeAndNormalised()
    {
        var random = new CellRandom(2);
        double[] weights = [0.01, 0.49, 0.5];

        for (int i = 0; i < 500; i++)
        {
            weights = MixtureEvolution.Mutate(weights, 0.05, random);
            Assert.All(weights, w => Assert.True(w >= 0));
            Assert.Equal(1.0, weights.Sum(), 12);
        }
    }

    [Fact]
    public void Step_AcceptsOnlyStrictImprovement()
    {
        var random = new CellRandom(9);
        double[] weights = [1 / 3.0, 1 / 3.0, 1 / 3.0];
        double[] target = [0.7, 0.2, 0.1];
        double Distance(IReadOnlyList<double> w) => w.Select((value, i) => Math.Abs(value - target[i])).Sum();

        double previous = Distance(weights);
        int accepted = 0;
        for (int generation = 0; generation < 400; generation++)
        {
            var step = MixtureEvolution.Step(weights, 0.02, random, Distance);
            if (step.Accepted)
            {
                Assert.True(step.Score < previous);
                accepted++;
            }
            else
            {
                Assert.Equal(weights, step.Weights);
                Assert.Equal(previous, step.Score);
            }

            weights = step.Weights;
            previous = step.Score;
        }

        Assert.True(accepted > 0);
        Assert.True(Distance(weights) < 0.1, $"ES ended at distance {Distance(weights)}");
    }

    [Fact]
    public void Step_ConstantScore_NeverAccepts()
    {
        var random = new CellRandom(1);
        double[] weights = [0.5, 0.5];

        for (int i = 0; i < 50; i++)
        {
            var step = MixtureEvolution.Step(weights, 0.1, random, _ => 1.0);
            Assert.False(step.Accepted);
            Assert.Equal(weights, step.Weights);
        }
    }

    [Fact]
    public void Step_SingleMember_OnlyScores()
    {
        var step = MixtureEvolution.Step([1.0], 0.1, new CellRandom(1), _ => 3.0);

        Assert.False(step.Accepted);
        Assert.Equal([1.0], step.Weights);
        Assert.Equal(3.0, step.Score);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Step_FollowsTheScoreDirection(bool higherIsBetter)
    {
        double[] weights = [0.5, 0.5];

        // The score is the first weight: a candidate that raises it is better only when higher is better.
        for (int seed = 1; seed <= 40; seed++)
        {
            var step = MixtureEvolution.Step(weights, 0.1, new CellRandom((ulong)seed), higherIsBetter, candidate => candidate[0]);
            if (step.Accepted)
            {
                Assert.True(higherIsBetter ? step.Weights[0] > 0.5 : step.Weights[0] < 0.5);
            }
            else
            {
                Assert.Equal(weights, step.Weights);
            }
        }
    }

    [Fact]
    public void Step_HigherIsBetter_AcceptsSomeAndRejectsSome()
    {
        double[] weights = [0.5, 0.5];

        var steps = Enumerable.Range(1, 40)
            .Select(seed => MixtureEvolution.Step(weights, 0.1, new CellRandom((ulong)seed), higherIsBetter: true, candidate => candidate[0]))
            .ToList();

        Assert.Contains(steps, step => step.Accepted);
        Assert.Contains(steps, step => !step.Accepted);
    }
}
