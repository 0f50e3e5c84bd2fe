using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Scoring;

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
        CheckScore(config, invalidPaths, locate, errors);
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

    /// <summary>Checks the sample counts and files that the configured score type needs.</summary>
    private static void CheckScore(
        LipizzanerConfig config, IReadOnlySet<string> invalidPaths, Func<string, string> locate, List<string> errors)
    {
        var score = config.Trainer.Params.Score;
        if (!score.Enabled || invalidPaths.Contains("trainer.params.score.type"))
        {
            return;
        }

        if (score.Type == ScoreKind.InceptionScore && string.IsNullOrWhiteSpace(score.ClassifierOnnx))
        {
            errors.Add("trainer.params.score.classifier_onnx: an empty value is invalid with trainer.params.score.type "
                + "inception_score; expected an ONNX image classifier with class logits" + locate("trainer.params.score.classifier_onnx"));
        }

        if (score.Type != ScoreKind.ResNetFid)
        {
            return;
        }

        // The covariance of N samples has rank at most N - 1, so FID on 512 features needs N > 512.
        var counts = new List<(string Path, int Value)>
        {
            ("trainer.params.score.score_sample_size", score.ScoreSampleSize),
            ("trainer.params.score.final_sample_size", score.FinalSampleSize),
        };
        if (config.Trainer.Params.OptimizeMixture.EsGenerations > 0)
        {
            counts.Add(("trainer.params.optimize_mixture.sample_size", config.Trainer.Params.OptimizeMixture.SampleSize));
        }

        foreach (var (path, value) in counts.Where(count => !invalidPaths.Contains(count.Path) && count.Value <= ResNet18Features.FeatureCount))
        {
            errors.Add($"{path}: {value} is invalid with trainer.params.score.type fid_resnet; expected more than "
                + $"{ResNet18Features.FeatureCount} samples (the feature count), or trainer.params.score.type: kid, which "
                + "is defined for small sets" + locate(path));
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

        if (!invalidPaths.Contains("trainer.params.score.enabled")
            && !invalidPaths.Contains("trainer.params.score.type")
            && config.Trainer.Params.Score.Enabled
            && config.Trainer.Params.Score.Type == ScoreKind.Fid)
        {
            errors.Add("trainer.params.score.type: fid is invalid with dataloader.dataset_name image_folder; "
                + "fid uses a classifier trained on MNIST digits and does not apply to other images, so set "
                + "trainer.params.score.type: kid (or fid_resnet, inception_score), or trainer.params.score.enabled: false"
                + locate("trainer.params.score.type"));
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
