using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Evolution;

public sealed class SelectionTests : IDisposable
{
    private readonly List<Individual> _created = [];

    public SelectionTests() => TorchSetup.Configure(1);

    [Fact]
    public void Tournament_FullSize_PicksLowestLossAsDeepCopy()
    {
        var pool = new[] { Make(0.9, 0), Make(0.2, 1), Make(0.5, 2) };

        var winners = Selection.Tournament(pool, winnerCount: 1, tournamentSize: 3, new CellRandom(1));
        _created.AddRange(winners);

        var winner = Assert.Single(winners);
        Assert.Equal(1, winner.SourceCell);
        Assert.True(double.IsNaN(winner.Fitness));
        Assert.NotSame(pool[1], winner);
        Assert.True(TensorAssert.Identical(winner.Network.parameters().First(), pool[1].Network.parameters().First()));
    }

    [Fact]
    public void Tournament_SizeTwo_NeverPicksWorst()
    {
        var pool = new[] { Make(0.9, 0), Make(0.2, 1), Make(0.5, 2) };
        var random = new CellRandom(4);
        var picked = new HashSet<int>();

        for (int round = 0; round < 60; round++)
        {
            var winner = Selection.Tournament(pool, 1, 2, random)[0];
            picked.Add(winner.SourceCell);
            winner.Dispose();
        }

        Assert.DoesNotContain(0, picked);
        Assert.Contains(1, picked);
        Assert.Contains(2, picked);
    }

    [Fact]
    public void Tournament_SizeLargerThanPool_IsCapped()
    {
        var pool = new[] { Make(0.3, 0) };

        var winners = Selection.Tournament(pool, 2, 5, new CellRandom(1));
        _created.AddRange(winners);

        Assert.Equal(2, winners.Count);
    }

    [Fact]
    public void Replace_StrictlyBetter_ReplacesWorstAndSorts()
    {
        var local = new List<Individual> { Make(0.4, 0), Make(0.8, 1) };
        var candidate = Make(0.1, 7);

        int replaced = Selection.Replace(local, [candidate], 1);

        Assert.Equal(1, replaced);
        Assert.Equal([0.1, 0.4], local.Select(i => i.Fitness));
        Assert.Equal(7, local[0].SourceCell);
        Assert.NotSame(candidate, local[0]);
    }

    [Fact]
    public void Replace_EqualLoss_KeepsIncumbent()
    {
        var local = new List<Individual> { Make(0.4, 0) };

        int replaced = Selection.Replace(local, [Make(0.4, 9)], 1);

        Assert.Equal(0, replaced);
        Assert.Equal(0, local[0].SourceCell);
    }

    [Fact]
    public void Replace_TwoReplacements_PairBestNewWithWorstOld()
    {
        // Locals sorted: 0.2, 0.5, 0.9. Candidates sorted: 0.3, 0.6.
        // Best candidate 0.3 meets worst local 0.9 (replaces it); 0.6 meets 0.5 (keeps it).
        var local = new List<Individual> { Make(0.5, 1), Make(0.9, 2), Make(0.2, 0) };
        var candidates = new[] { Make(0.6, 11), Make(0.3, 10) };

        int replaced = Selection.Replace(local, candidates, 2);

        Assert.Equal(1, replaced);
        Assert.Equal([0.2, 0.3, 0.5], local.Select(i => i.Fitness));
        Assert.Equal([0, 10, 1], local.Select(i => i.SourceCell));
    }

    [Fact]
    public void Replace_UnevaluatedCandidate_Throws()
    {
        var local = new List<Individual> { Make(0.4, 0) };

        Assert.Throws<InvalidOperationException>(() => Selection.Replace(local, [Make(double.NaN, 1)], 1));
    }

    public void Dispose()
    {
        foreach (var individual in _created)
        {
            individual.Dispose();
        }
    }

    private Individual Make(double fitness, int source)
    {
        var individual = Individual.Create(NetworkRole.Generator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, source);
        individual.Fitness = fitness;
        _created.Add(individual);
        return individual;
    }
}
