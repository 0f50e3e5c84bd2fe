using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Randomness;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>Draws samples from a weighted mixture of generators.</summary>
public static class MixtureSampler
{
    /// <summary>
    /// Chooses the generator of each of <paramref name="count"/> samples. Exact proportion lists
    /// generator i ⌈count·wᵢ⌉ times, shuffles the list and keeps the first <paramref name="count"/>;
    /// independent probability draws each sample's generator from the weights.
    /// </summary>
    public static int[] AssignGenerators(IReadOnlyList<double> weights, int count, MixtureSampling mode, CellRandom random)
    {
        double total = weights.Sum();
        if (!(total > 0))
        {
            throw new ArgumentException("Mixture weights must have a positive sum.", nameof(weights));
        }

        if (mode == MixtureSampling.IndependentProbability)
        {
            var assignment = new int[count];
            for (int k = 0; k < count; k++)
            {
                double u = random.NextDouble() * total;
                int chosen = weights.Count - 1;
                double cumulative = 0;
                for (int i = 0; i < weights.Count; i++)
                {
                    cumulative += weights[i];
                    if (u < cumulative)
                    {
                        chosen = i;
                        break;
                    }
                }

                assignment[k] = chosen;
            }

            return assignment;
        }

        var slots = new List<int>();
        for (int i = 0; i < weights.Count; i++)
        {
            int repeats = (int)Math.Ceiling(count * weights[i] / total);
            slots.AddRange(Enumerable.Repeat(i, repeats));
        }

        random.Shuffle(slots);
        return slots.Take(count).ToArray();
    }

    /// <summary>
    /// Returns the images (count, side·side) where sample k is <c>generators[assignment[k]](latent[k])</c>.
    /// Generators run in eval mode under no_grad, in one batch per generator, and get their
    /// previous mode back afterwards.
    /// </summary>
    public static Tensor Generate(IReadOnlyList<Sequential> generators, int[] assignment, Tensor latent)
    {
        if (latent.shape[0] != assignment.Length)
        {
            throw new ArgumentException($"{latent.shape[0]} latent vectors for {assignment.Length} samples.", nameof(latent));
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor? output = null;
        for (int i = 0; i < generators.Count; i++)
        {
            long[] rows = Enumerable.Range(0, assignment.Length).Where(k => assignment[k] == i).Select(k => (long)k).ToArray();
            if (rows.Length == 0)
            {
                continue;
            }

            var index = torch.tensor(rows, device: latent.device);
            bool wasTraining = generators[i].training;
            generators[i].eval();
            var images = generators[i].call(latent.index_select(0, index));
            generators[i].train(wasTraining);
            output ??= torch.empty([assignment.Length, images.shape[1]], images.dtype, images.device);
            output.index_copy_(0, index, images);
        }

        return output!.MoveToOuterDisposeScope();
    }
}
