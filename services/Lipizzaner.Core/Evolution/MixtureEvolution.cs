using Lipizzaner.Core.Randomness;

namespace Lipizzaner.Core.Evolution;

/// <summary>
/// The (1+1)-ES on mixture weights. A candidate adds N(0, σ²) noise to every weight, clips at 0 and
/// renormalises. It replaces the parent only when its score is strictly better: lower for losses such
/// as FID and KID, higher for the Inception Score. The caller scores parent and candidate on the same
/// latent noise.
/// </summary>
public static class MixtureEvolution
{
    public static double[] Uniform(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return Enumerable.Repeat(1.0 / count, count).ToArray();
    }

    /// <summary>Returns a mutated copy of <paramref name="weights"/>, or an unchanged copy when clipping removes every weight.</summary>
    public static double[] Mutate(IReadOnlyList<double> weights, double sigma, CellRandom random)
    {
        var candidate = new double[weights.Count];
        for (int i = 0; i < candidate.Length; i++)
        {
            candidate[i] = Math.Max(0, weights[i] + sigma * random.NextGaussian());
        }

        double sum = candidate.Sum();
        if (sum <= 0)
        {
            return weights.ToArray();
        }

        for (int i = 0; i < candidate.Length; i++)
        {
            candidate[i] /= sum;
        }

        return candidate;
    }

    /// <summary>Runs one ES step for a score where lower is better, such as FID.</summary>
    public static MixtureStep Step(
        IReadOnlyList<double> weights, double sigma, CellRandom random, Func<IReadOnlyList<double>, double> score) =>
        Step(weights, sigma, random, higherIsBetter: false, score);

    /// <summary>
    /// Runs one ES step: scores the parent and a mutated candidate with <paramref name="score"/> and
    /// keeps the candidate only when its score is strictly lower, or strictly higher when
    /// <paramref name="higherIsBetter"/>.
    /// </summary>
    public static MixtureStep Step(
        IReadOnlyList<double> weights, double sigma, CellRandom random, bool higherIsBetter, Func<IReadOnlyList<double>, double> score)
    {
        double parentScore = score(weights);
        if (weights.Count == 1)
        {
            return new MixtureStep(weights.ToArray(), parentScore, Accepted: false);
        }

        var candidate = Mutate(weights, sigma, random);
        double candidateScore = score(candidate);
        bool better = higherIsBetter ? candidateScore > parentScore : candidateScore < parentScore;
        return better
            ? new MixtureStep(candidate, candidateScore, Accepted: true)
            : new MixtureStep(weights.ToArray(), parentScore, Accepted: false);
    }
}

/// <summary>Result of one ES step: the kept weights and their score.</summary>
public sealed record MixtureStep(double[] Weights, double Score, bool Accepted);
