using Lipizzaner.Core.Randomness;

namespace Lipizzaner.Core.Evolution;

/// <summary>
/// Gaussian learning-rate mutation, applied once per generation to each trained individual: with
/// probability <c>mutation_probability</c>, <c>lr = max(0, lr + alpha · δ)</c> with
/// <c>δ ~ N(-lr0 / 10, lr0)</c>, where lr0 is <c>default_adam_learning_rate</c>. The new value goes
/// into the individual's optimizer, so the next gradient step uses it.
/// </summary>
public sealed class LearningRateMutation(double initialLearningRate, double alpha, double probability)
{
    public double InitialLearningRate { get; } = initialLearningRate;

    public double Alpha { get; } = alpha;

    public double Probability { get; } = probability;

    /// <summary>Returns the mutated learning rate; draws one uniform and, when it applies, one normal value.</summary>
    public double Mutate(double learningRate, CellRandom random)
    {
        if (random.NextDouble() >= Probability)
        {
            return learningRate;
        }

        double delta = -InitialLearningRate / 10 + InitialLearningRate * random.NextGaussian();
        return Math.Max(0, learningRate + Alpha * delta);
    }

    public void Apply(Individual individual, CellRandom random)
    {
        individual.LearningRate = Mutate(individual.LearningRate, random);
    }
}
