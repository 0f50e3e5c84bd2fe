using Lipizzaner.Core.Networks;

namespace Lipizzaner.Core.Configuration;

/// <summary>Checks that involve more than one key, run after every key is bound.</summary>
internal static class ConfigChecks
{
    /// <summary>
    /// Adds errors and warnings for combinations of values. A check is skipped when one of its keys
    /// is already invalid, so that one mistake is not reported twice. <paramref name="locate"/>
    /// returns the " (line N)" suffix for a key path.
    /// </summary>
    public static void Check(
        LipizzanerConfig config,
        IReadOnlySet<string> invalidPaths,
        Func<string, string> locate,
        List<string> errors,
        List<string> warnings)
    {
        var trainer = config.Trainer.Params;
        bool populationValid = !invalidPaths.Contains("trainer.params.population_size");

        if (populationValid
            && !invalidPaths.Contains("trainer.params.n_replacements")
            && trainer.NReplacements > trainer.PopulationSize)
        {
            errors.Add($"trainer.params.n_replacements: {trainer.NReplacements} is invalid; expected an integer "
                + $"from 1 to trainer.params.population_size ({trainer.PopulationSize})"
                + locate("trainer.params.n_replacements"));
        }

        // grid.width and grid.height are each at least 1, so the grid always has at least one cell.
        bool gridValid = !invalidPaths.Contains("grid.width") && !invalidPaths.Contains("grid.height");
        if (trainer.EnableSelection
            && gridValid
            && populationValid
            && !invalidPaths.Contains("trainer.params.tournament_size"))
        {
            int neighbours = DistinctNeighbours(config.Grid.Width) + DistinctNeighbours(config.Grid.Height);
            long pool = (long)trainer.PopulationSize * (neighbours + 1);
            if (trainer.TournamentSize > pool)
            {
                warnings.Add($"trainer.params.tournament_size: {trainer.TournamentSize} is larger than the "
                    + $"selection pool of {pool} on a {config.Grid.Width}x{config.Grid.Height} grid "
                    + $"(population_size {trainer.PopulationSize} x ({neighbours} neighbours + the cell itself)); "
                    + $"selection caps the tournament at {pool}");
            }
        }

        if (config.Network.Randomized && config.Network.Loss != LossKind.Mustangs)
        {
            warnings.Add("network.randomized: true has no effect unless network.loss is mustangs");
        }

        CheckImageFolder(config, invalidPaths, locate, errors);
        CheckDistribution(config.Distribution, invalidPaths, locate, errors);
    }

    /// <summary>Checks the pairs of <c>distribution</c> keys that must agree when both are set.</summary>
    private static void CheckDistribution(
        DistributionSettings distribution, IReadOnlySet<string> invalidPaths, Func<string, string> locate, List<string> errors)
    {
        if (distribution is { MinClients: { } min, MaxClients: { } max }
            && !invalidPaths.Contains("distribution.min_clients") && !invalidPaths.Contains("distribution.max_clients")
            && max < min)
        {
            errors.Add($"distribution.max_clients: {max} is invalid; expected at least distribution.min_clients ({min})"
                + locate("distribution.max_clients"));
        }

        // Three renewals per lease leave room for two lost or late heartbeats before a training cell's lease expires.
        if (distribution is { HeartbeatInterval: { } heartbeat, LeaseDuration: { } lease }
            && !invalidPaths.Contains("distribution.heartbeat_interval") && !invalidPaths.Contains("distribution.lease_duration")
            && heartbeat * 3 > lease)
        {
            errors.Add($"distribution.heartbeat_interval: {heartbeat} s is invalid; expected at most a third of "
                + $"distribution.lease_duration ({lease} s), so that a late heartbeat does not lose the lease"
                + locate("distribution.heartbeat_interval"));
        }
    }

    /// <summary>Checks the keys that <c>dataloader.dataset_name: image_folder</c> reads.</summary>
    private static void CheckImageFolder(
        LipizzanerConfig config, IReadOnlySet<string> invalidPaths, Func<string, string> locate, List<string> errors)
    {
        var data = config.DataLoader;
        if (data.DatasetName != "image_folder" || invalidPaths.Contains("dataloader.dataset_name"))
        {
            return;
        }

        if (!invalidPaths.Contains("dataloader.path") && string.IsNullOrWhiteSpace(data.Path))
        {
            errors.Add("dataloader.path: an empty value is invalid; expected a folder of JPEG or PNG images, which "
                + "dataloader.dataset_name image_folder requires" + locate("dataloader.path"));
        }

        if (!invalidPaths.Contains("trainer.params.score.enabled") && config.Trainer.Params.Score.Enabled)
        {
            errors.Add("trainer.params.score.enabled: true is invalid with dataloader.dataset_name image_folder; "
                + "FID here uses a classifier trained on MNIST digits and does not apply to other images, so set "
                + "trainer.params.score.enabled: false" + locate("trainer.params.score.enabled"));
        }

        if (!invalidPaths.Contains("dataloader.image_size") && !invalidPaths.Contains("network.name"))
        {
            int side = NetworkFactory.Spec(config.Network.Name).ImageSide;
            if (data.ImageSize != 0 && data.ImageSize != side)
            {
                errors.Add($"dataloader.image_size: {data.ImageSize} is invalid; expected 0 (the network's size) or "
                    + $"{side}, the image side of network.name {NetworkFactory.ConfigName(config.Network.Name)}"
                    + locate("dataloader.image_size"));
            }
        }
    }

    /// <summary>
    /// Returns the number of distinct neighbours of a cell along one torus axis, without the cell itself.
    /// On an axis of length 2, x - 1 and x + 1 are the same cell, and on length 1 they are the cell itself.
    /// </summary>
    private static int DistinctNeighbours(int length) => Math.Min(length - 1, 2);
}
