using Lipizzaner.Core.Randomness;

namespace Lipizzaner.Core.Evolution;

/// <summary>Tournament selection and elitist replacement; fitness is a loss, so lower wins.</summary>
public static class Selection
{
    /// <summary>
    /// Runs <paramref name="winnerCount"/> tournaments over <paramref name="pool"/>. Each draws
    /// <paramref name="tournamentSize"/> distinct competitors uniformly (capped at the pool size), and
    /// the one with the lowest fitness wins; ties go to the competitor drawn first. Winners are
    /// returned as deep copies (network and optimizer state), with fitness reset to not evaluated.
    /// </summary>
    public static List<Individual> Tournament(
        IReadOnlyList<Individual> pool, int winnerCount, int tournamentSize, CellRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfZero(pool.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(tournamentSize, 1);
        int size = Math.Min(tournamentSize, pool.Count);
        var winners = new List<Individual>(winnerCount);
        for (int round = 0; round < winnerCount; round++)
        {
            int[] competitors = random.SampleWithoutReplacement(pool.Count, size);
            var winner = pool[competitors[0]];
            foreach (int index in competitors.Skip(1))
            {
                EnsureEvaluated(pool[index]);
                if (pool[index].Fitness < winner.Fitness)
                {
                    winner = pool[index];
                }
            }

            var copy = winner.Clone();
            copy.Fitness = double.NaN;
            winners.Add(copy);
        }

        return winners;
    }

    /// <summary>
    /// Replaces the worst members of <paramref name="local"/> with the best of
    /// <paramref name="candidates"/>: the i-th best candidate is compared with the i-th worst local
    /// individual and replaces it (as a deep copy) only when its loss is strictly lower. Afterwards
    /// <paramref name="local"/> is sorted ascending, so index 0 is the center. Returns the number of replacements.
    /// </summary>
    public static int Replace(List<Individual> local, IReadOnlyList<Individual> candidates, int replacementCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replacementCount, 1);
        SortByFitness(local);
        foreach (var candidate in candidates)
        {
            EnsureEvaluated(candidate);
        }

        var ranked = candidates.OrderBy(candidate => candidate.Fitness).ToList();
        int pairs = Math.Min(replacementCount, Math.Min(ranked.Count, local.Count));
        int replaced = 0;
        for (int i = 0; i < pairs; i++)
        {
            int worstIndex = local.Count - 1 - i;
            var incumbent = EnsureEvaluated(local[worstIndex]);
            if (ranked[i].Fitness < incumbent.Fitness)
            {
                incumbent.CopyFrom(ranked[i]);
                replaced++;
            }
        }

        SortByFitness(local);
        return replaced;
    }

    /// <summary>Sorts ascending by fitness; the sort is stable, so equal losses keep their order.</summary>
    public static void SortByFitness(List<Individual> population)
    {
        foreach (var individual in population)
        {
            EnsureEvaluated(individual);
        }

        var sorted = population.OrderBy(individual => individual.Fitness).ToList();
        population.Clear();
        population.AddRange(sorted);
    }

    private static Individual EnsureEvaluated(Individual individual)
    {
        if (double.IsNaN(individual.Fitness))
        {
            throw new InvalidOperationException(
                $"A {individual.Role} from cell {individual.SourceCell} was compared before its fitness was evaluated.");
        }

        return individual;
    }
}
