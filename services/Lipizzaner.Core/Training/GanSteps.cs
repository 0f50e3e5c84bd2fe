using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Training;

/// <summary>
/// One gradient step of a generator or a discriminator against a fixed opponent, and the
/// all-vs-all fitness evaluation. Every method opens its own dispose scope, so no tensor outlives
/// the call: memory stays flat however many steps a run takes.
/// </summary>
public static class GanSteps
{
    /// <summary>Updates <paramref name="generator"/> once against <paramref name="opponent"/>; returns the loss.</summary>
    public static double TrainGenerator(
        Individual generator, Individual opponent, int batchSize, LossKind loss, torch.Generator random)
    {
        using var scope = torch.NewDisposeScope();
        var fake = generator.Network.call(Latent(batchSize, generator, random));
        var value = GanLosses.Generator(loss, opponent.Network.call(fake));

        generator.Optimizer.ZeroGrad();
        opponent.Optimizer.ZeroGrad();
        value.backward();
        generator.Optimizer.Step();
        opponent.Optimizer.ZeroGrad();
        return value.item<float>();
    }

    /// <summary>Updates <paramref name="discriminator"/> once on <paramref name="realBatch"/> and samples of <paramref name="opponent"/>; returns the loss.</summary>
    public static double TrainDiscriminator(
        Individual discriminator, Individual opponent, Tensor realBatch, LossKind loss, torch.Generator random)
    {
        using var scope = torch.NewDisposeScope();
        long batchSize = realBatch.shape[0];
        Tensor fake;
        using (torch.no_grad())
        {
            fake = opponent.Network.call(Latent(batchSize, opponent, random));
        }

        var value = GanLosses.Discriminator(
            loss, discriminator.Network.call(realBatch), discriminator.Network.call(fake));

        discriminator.Optimizer.ZeroGrad();
        value.backward();
        discriminator.Optimizer.Step();
        return value.item<float>();
    }

    /// <summary>
    /// Sets the fitness of every generator and discriminator from their losses against all members
    /// of the other population, aggregated by <paramref name="mode"/>. All pairs share the real batch
    /// <paramref name="real"/>; each generator draws one set of as many latent vectors, used against
    /// every discriminator. Runs under no_grad; networks stay in their current (training) mode.
    /// </summary>
    public static void EvaluateAll(
        IReadOnlyList<Individual> generators,
        IReadOnlyList<Individual> discriminators,
        Tensor real,
        FitnessMode mode,
        LossKind generatorLoss,
        LossKind discriminatorLoss,
        torch.Generator random)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long count = real.shape[0];

        var fakes = generators.Select(generator => generator.Network.call(Latent(count, generator, random))).ToList();
        var realOutputs = discriminators.Select(discriminator => discriminator.Network.call(real)).ToList();

        var generatorLosses = new double[generators.Count, discriminators.Count];
        var discriminatorLosses = new double[discriminators.Count, generators.Count];
        for (int g = 0; g < generators.Count; g++)
        {
            for (int d = 0; d < discriminators.Count; d++)
            {
                var fakeOutput = discriminators[d].Network.call(fakes[g]);
                generatorLosses[g, d] = GanLosses.Generator(generatorLoss, fakeOutput).item<float>();
                discriminatorLosses[d, g] = GanLosses.Discriminator(discriminatorLoss, realOutputs[d], fakeOutput).item<float>();
            }
        }

        for (int g = 0; g < generators.Count; g++)
        {
            generators[g].Fitness = Aggregate(generatorLosses, g, mode);
        }

        for (int d = 0; d < discriminators.Count; d++)
        {
            discriminators[d].Fitness = Aggregate(discriminatorLosses, d, mode);
        }
    }

    /// <summary>Sets each generator's fitness from its loss against every discriminator, on fresh samples of <paramref name="count"/> latent vectors.</summary>
    public static void EvaluateGenerators(
        IReadOnlyList<Individual> generators,
        IReadOnlyList<Individual> discriminators,
        long count,
        FitnessMode mode,
        LossKind loss,
        torch.Generator random)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var losses = new double[generators.Count, discriminators.Count];
        for (int g = 0; g < generators.Count; g++)
        {
            var fake = generators[g].Network.call(Latent(count, generators[g], random));
            for (int d = 0; d < discriminators.Count; d++)
            {
                losses[g, d] = GanLosses.Generator(loss, discriminators[d].Network.call(fake)).item<float>();
            }

            generators[g].Fitness = Aggregate(losses, g, mode);
        }
    }

    /// <summary>Sets each discriminator's fitness from its loss on <paramref name="real"/> and on samples of every generator.</summary>
    public static void EvaluateDiscriminators(
        IReadOnlyList<Individual> discriminators,
        IReadOnlyList<Individual> generators,
        Tensor real,
        FitnessMode mode,
        LossKind loss,
        torch.Generator random)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long count = real.shape[0];
        var fakes = generators.Select(generator => generator.Network.call(Latent(count, generator, random))).ToList();
        var losses = new double[discriminators.Count, generators.Count];
        for (int d = 0; d < discriminators.Count; d++)
        {
            var realOutput = discriminators[d].Network.call(real);
            for (int g = 0; g < generators.Count; g++)
            {
                losses[d, g] = GanLosses.Discriminator(loss, realOutput, discriminators[d].Network.call(fakes[g])).item<float>();
            }

            discriminators[d].Fitness = Aggregate(losses, d, mode);
        }
    }

    /// <summary>
    /// Draws standard-normal latent vectors from the cell's CPU random stream and moves them to the
    /// generator's device, so a run's random draws are the same on every device.
    /// </summary>
    public static Tensor Latent(long count, Individual generator, torch.Generator random) =>
        torch.randn([count, generator.Spec.LatentSize], generator: random).to(generator.Device);

    private static double Aggregate(double[,] losses, int row, FitnessMode mode)
    {
        int columns = losses.GetLength(1);
        var values = Enumerable.Range(0, columns).Select(column => losses[row, column]);
        return mode switch
        {
            FitnessMode.Worst => values.Max(),
            FitnessMode.Best => values.Min(),
            FitnessMode.Average => values.Average(),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown fitness mode."),
        };
    }
}
