using Lipizzaner.Core.Scoring;

namespace Lipizzaner.Core.Configuration;

/// <summary>
/// Every key path the loader reads, with its type, valid range and property, and the original
/// Lipizzaner's keys that are accepted but ignored. The order of <see cref="Keys"/> is the layout
/// written by <see cref="ConfigLoader.ToYaml"/>.
/// </summary>
internal static class ConfigSchema
{
    private static readonly ConfigKey[] _keys =
    [
        Key("general.seed", new IntRule(0), c => c.General.Seed, (c, v) => c.General.Seed = v),
        Key("general.checkpoint_period", new IntRule(0),
            c => c.General.CheckpointPeriod, (c, v) => c.General.CheckpointPeriod = v),
        Key("general.sample_period", new IntRule(0),
            c => c.General.SamplePeriod, (c, v) => c.General.SamplePeriod = v),

        Key("grid.width", new IntRule(1, 1024), c => c.Grid.Width, (c, v) => c.Grid.Width = v),
        Key("grid.height", new IntRule(1, 1024), c => c.Grid.Height, (c, v) => c.Grid.Height = v),

        Key("trainer.name", Only("lipizzaner_gan"), c => c.Trainer.Name, (c, v) => c.Trainer.Name = v),
        Key("trainer.n_iterations", new IntRule(1),
            c => c.Trainer.NIterations, (c, v) => c.Trainer.NIterations = v),
        Key("trainer.mixture_generator_samples_mode",
            new ChoiceRule<MixtureSampling>(
            [
                ("exact_proportion", MixtureSampling.ExactProportion),
                ("independent_probability", MixtureSampling.IndependentProbability),
            ]),
            c => c.Trainer.MixtureGeneratorSamplesMode, (c, v) => c.Trainer.MixtureGeneratorSamplesMode = v),

        Key("trainer.params.population_size", new IntRule(1),
            c => c.Trainer.Params.PopulationSize, (c, v) => c.Trainer.Params.PopulationSize = v),
        Key("trainer.params.tournament_size", new IntRule(1),
            c => c.Trainer.Params.TournamentSize, (c, v) => c.Trainer.Params.TournamentSize = v),
        // The upper bound, population_size, is checked in ConfigChecks once both values are known.
        Key("trainer.params.n_replacements", new IntRule(1),
            c => c.Trainer.Params.NReplacements, (c, v) => c.Trainer.Params.NReplacements = v),
        Key("trainer.params.default_adam_learning_rate", new DoubleRule(0, minExclusive: true),
            c => c.Trainer.Params.DefaultAdamLearningRate, (c, v) => c.Trainer.Params.DefaultAdamLearningRate = v),
        Key("trainer.params.alpha", new DoubleRule(0),
            c => c.Trainer.Params.Alpha, (c, v) => c.Trainer.Params.Alpha = v),
        Key("trainer.params.mutation_probability", new DoubleRule(0, max: 1),
            c => c.Trainer.Params.MutationProbability, (c, v) => c.Trainer.Params.MutationProbability = v),
        Key("trainer.params.discriminator_skip_each_nth_step", new IntRule(0),
            c => c.Trainer.Params.DiscriminatorSkipEachNthStep,
            (c, v) => c.Trainer.Params.DiscriminatorSkipEachNthStep = v),
        Key("trainer.params.mixture_sigma", new DoubleRule(0),
            c => c.Trainer.Params.MixtureSigma, (c, v) => c.Trainer.Params.MixtureSigma = v),
        Key("trainer.params.enable_selection", new BoolRule(),
            c => c.Trainer.Params.EnableSelection, (c, v) => c.Trainer.Params.EnableSelection = v),
        Key("trainer.params.opponent",
            new ChoiceRule<OpponentSource>(
                [("neighbourhood", OpponentSource.Neighbourhood), ("selected", OpponentSource.Selected)],
                [("neighborhood", OpponentSource.Neighbourhood)]),
            c => c.Trainer.Params.Opponent, (c, v) => c.Trainer.Params.Opponent = v),

        Key("trainer.params.score.enabled", new BoolRule(),
            c => c.Trainer.Params.Score.Enabled, (c, v) => c.Trainer.Params.Score.Enabled = v),
        Key("trainer.params.score.type",
            new ChoiceRule<ScoreKind>(
            [
                ("fid", ScoreKind.Fid),
                ("kid", ScoreKind.Kid),
                ("fid_resnet", ScoreKind.ResNetFid),
                ("inception_score", ScoreKind.InceptionScore),
            ]),
            c => c.Trainer.Params.Score.Type, (c, v) => c.Trainer.Params.Score.Type = v),
        Key("trainer.params.score.kid_subsets", new IntRule(1),
            c => c.Trainer.Params.Score.KidSubsets, (c, v) => c.Trainer.Params.Score.KidSubsets = v),
        // The unbiased MMD estimate divides by m - 1, so a subset needs at least 2 samples.
        Key("trainer.params.score.kid_subset_size", new IntRule(2),
            c => c.Trainer.Params.Score.KidSubsetSize, (c, v) => c.Trainer.Params.Score.KidSubsetSize = v),
        Key("trainer.params.score.classifier_onnx",
            new TextRule("an ONNX image classifier with class logits (required for inception_score)"),
            c => c.Trainer.Params.Score.ClassifierOnnx, (c, v) => c.Trainer.Params.Score.ClassifierOnnx = v),
        // FID fits a Gaussian to the classifier's 10 logits, so fewer than 10 samples give a singular covariance.
        Key("trainer.params.score.score_sample_size", new IntRule(10),
            c => c.Trainer.Params.Score.ScoreSampleSize, (c, v) => c.Trainer.Params.Score.ScoreSampleSize = v),
        Key("trainer.params.score.final_sample_size", new IntRule(10),
            c => c.Trainer.Params.Score.FinalSampleSize, (c, v) => c.Trainer.Params.Score.FinalSampleSize = v),

        Key("trainer.params.fitness.fitness_sample_size", new IntRule(1),
            c => c.Trainer.Params.Fitness.FitnessSampleSize,
            (c, v) => c.Trainer.Params.Fitness.FitnessSampleSize = v),
        Key("trainer.params.fitness.fitness_mode",
            new ChoiceRule<FitnessMode>(
                [("worst", FitnessMode.Worst), ("best", FitnessMode.Best), ("average", FitnessMode.Average)],
                [("worse", FitnessMode.Worst)]),
            c => c.Trainer.Params.Fitness.FitnessMode, (c, v) => c.Trainer.Params.Fitness.FitnessMode = v),

        Key("trainer.params.optimize_mixture.es_generations", new IntRule(0),
            c => c.Trainer.Params.OptimizeMixture.EsGenerations,
            (c, v) => c.Trainer.Params.OptimizeMixture.EsGenerations = v),
        Key("trainer.params.optimize_mixture.sample_size", new IntRule(10),
            c => c.Trainer.Params.OptimizeMixture.SampleSize,
            (c, v) => c.Trainer.Params.OptimizeMixture.SampleSize = v),
        Key("trainer.params.optimize_mixture.mixture_sigma",
            new OptionalRule<double>(new DoubleRule(0), "use trainer.params.mixture_sigma"),
            c => c.Trainer.Params.OptimizeMixture.MixtureSigma,
            (c, v) => c.Trainer.Params.OptimizeMixture.MixtureSigma = v),

        Key("dataloader.dataset_name", new ChoiceRule<string>([("mnist", "mnist"), ("image_folder", "image_folder")]),
            c => c.DataLoader.DatasetName, (c, v) => c.DataLoader.DatasetName = v),
        Key("dataloader.batch_size", new IntRule(1), c => c.DataLoader.BatchSize, (c, v) => c.DataLoader.BatchSize = v),
        Key("dataloader.n_batches", new IntRule(0), c => c.DataLoader.NBatches, (c, v) => c.DataLoader.NBatches = v),
        Key("dataloader.shuffle", new BoolRule(), c => c.DataLoader.Shuffle, (c, v) => c.DataLoader.Shuffle = v),
        Key("dataloader.sample_count", new IntRule(1, 1024),
            c => c.DataLoader.SampleCount, (c, v) => c.DataLoader.SampleCount = v),
        Key("dataloader.data_dir", new TextRule("a folder path, or empty for the download cache"),
            c => c.DataLoader.DataDir, (c, v) => c.DataLoader.DataDir = v),
        // The image-folder keys; ConfigChecks requires path with image_folder and checks image_size against the network.
        Key("dataloader.path", new TextRule("a folder of JPEG or PNG images (required for image_folder)"),
            c => c.DataLoader.Path, (c, v) => c.DataLoader.Path = v),
        Key("dataloader.image_size", new IntRule(0),
            c => c.DataLoader.ImageSize, (c, v) => c.DataLoader.ImageSize = v),
        Key("dataloader.resize_policy",
            new ChoiceRule<ImageResizePolicy>([("center_crop", ImageResizePolicy.CenterCrop), ("pad", ImageResizePolicy.Pad)]),
            c => c.DataLoader.ResizePolicy, (c, v) => c.DataLoader.ResizePolicy = v),
        Key("dataloader.strict", new BoolRule(), c => c.DataLoader.Strict, (c, v) => c.DataLoader.Strict = v),
        Key("dataloader.smote_augmentation_times", new IntRule(0),
            c => c.DataLoader.SmoteAugmentationTimes, (c, v) => c.DataLoader.SmoteAugmentationTimes = v),
        Key("dataloader.smote_neighbours", new IntRule(1),
            c => c.DataLoader.SmoteNeighbours, (c, v) => c.DataLoader.SmoteNeighbours = v),
        Key("dataloader.gaussian_augmentation_times", new IntRule(0),
            c => c.DataLoader.GaussianAugmentationTimes, (c, v) => c.DataLoader.GaussianAugmentationTimes = v),
        Key("dataloader.gaussian_augmentation_mean", new DoubleRule(-2, max: 2),
            c => c.DataLoader.GaussianAugmentationMean, (c, v) => c.DataLoader.GaussianAugmentationMean = v),
        Key("dataloader.gaussian_augmentation_std", new DoubleRule(0),
            c => c.DataLoader.GaussianAugmentationStd, (c, v) => c.DataLoader.GaussianAugmentationStd = v),

        Key("network.name",
            new ChoiceRule<NetworkKind>(
                [
                    ("4lp", NetworkKind.FourLayerPerceptron),
                    ("5lp", NetworkKind.FiveLayerPerceptron),
                    ("cnn28", NetworkKind.Cnn28),
                    ("cnn64", NetworkKind.Cnn64),
                    ("cnn128", NetworkKind.Cnn128),
                ],
                [
                    ("four_layer_perceptron", NetworkKind.FourLayerPerceptron),
                    ("five_layer_perceptron", NetworkKind.FiveLayerPerceptron),
                    ("convolutional_grayscale128x128", NetworkKind.Cnn128),
                ]),
            c => c.Network.Name, (c, v) => c.Network.Name = v),
        Key("network.loss",
            new ChoiceRule<LossKind>(
            [
                ("bceloss", LossKind.Bce),
                ("mseloss", LossKind.Mse),
                ("heuristicloss", LossKind.Heuristic),
                ("mustangs", LossKind.Mustangs),
            ]),
            c => c.Network.Loss, (c, v) => c.Network.Loss = v),
        // The original's Mustangs configurations write "always" for a loss drawn every batch.
        Key("network.randomized", new BoolRule("always"),
            c => c.Network.Randomized, (c, v) => c.Network.Randomized = v),

        Key("runtime.mode",
            new ChoiceRule<RunMode>([("async", RunMode.Asynchronous), ("lockstep", RunMode.Lockstep)]),
            c => c.Runtime.Mode, (c, v) => c.Runtime.Mode = v),
        Key("runtime.parallelism", new IntRule(0),
            c => c.Runtime.Parallelism, (c, v) => c.Runtime.Parallelism = v),
        Key("runtime.torch_threads", new IntRule(1),
            c => c.Runtime.TorchThreads, (c, v) => c.Runtime.TorchThreads = v),
        Key("runtime.device", new DeviceRule(), c => c.Runtime.Device, (c, v) => c.Runtime.Device = v),

        Key("distribution.min_clients", new OptionalRule<int>(new IntRule(1), "use the coordinator's MinClients"),
            c => c.Distribution.MinClients, (c, v) => c.Distribution.MinClients = v),
        Key("distribution.max_clients", new OptionalRule<int>(new IntRule(1), "use the coordinator's MaxClients"),
            c => c.Distribution.MaxClients, (c, v) => c.Distribution.MaxClients = v),
        Key("distribution.registration_timeout",
            new OptionalRule<double>(new DoubleRule(0, minExclusive: true), "use the coordinator's RegistrationTimeout"),
            c => c.Distribution.RegistrationTimeout, (c, v) => c.Distribution.RegistrationTimeout = v),
        Key("distribution.finish_proportion",
            new OptionalRule<double>(new DoubleRule(0, minExclusive: true, max: 1), "use the coordinator's FinishProportion"),
            c => c.Distribution.FinishProportion, (c, v) => c.Distribution.FinishProportion = v),
        Key("distribution.straggler_timeout",
            new OptionalRule<double>(new DoubleRule(0), "use the coordinator's StragglerTimeout"),
            c => c.Distribution.StragglerTimeout, (c, v) => c.Distribution.StragglerTimeout = v),
        Key("distribution.max_dead_cells", new OptionalRule<int>(new IntRule(0), "use the coordinator's MaxDeadCells"),
            c => c.Distribution.MaxDeadCells, (c, v) => c.Distribution.MaxDeadCells = v),
        Key("distribution.lease_duration",
            new OptionalRule<double>(new DoubleRule(0, minExclusive: true), "use the coordinator's LeaseDuration"),
            c => c.Distribution.LeaseDuration, (c, v) => c.Distribution.LeaseDuration = v),
        Key("distribution.heartbeat_interval",
            new OptionalRule<double>(new DoubleRule(0, minExclusive: true), "use the worker's HeartbeatInterval"),
            c => c.Distribution.HeartbeatInterval, (c, v) => c.Distribution.HeartbeatInterval = v),
        Key("distribution.max_aspect_ratio",
            new OptionalRule<double>(new DoubleRule(1, max: 1000), "use the coordinator's MaxAspectRatio"),
            c => c.Distribution.MaxAspectRatio, (c, v) => c.Distribution.MaxAspectRatio = v),
    ];

    /// <summary>
    /// Keys of the original Lipizzaner that this implementation does not use, each with the reason.
    /// An entry covers the key and everything beneath it, and loading one gives a warning, not an error.
    /// </summary>
    private static readonly Dictionary<string, string> _ignoredKeys = new(StringComparer.Ordinal)
    {
        ["general.logging"] = "messages go to the console, and there is no log server",
        ["general.distribution"] =
            "the embedded runner trains every cell in one process, and a coordinator reads the top-level distribution section",
        ["general.num_workers"] =
            "there are no data-loader worker processes; runtime.parallelism sets how many cells train at once",
        ["general.output_dir"] = "the run folder is not read from the configuration file",
        ["general.losswise"] = "Losswise reporting is not implemented",
        ["master"] = "there is no master process; trainer.params.score.final_sample_size sets the final score's"
            + " sample count",
        ["trainer.calculate_net_weights_dist"] = "distances between network weights are not computed",
        ["trainer.params.score.cuda"] = "runtime.device selects the device",
        ["trainer.params.score.sample_size"] = "trainer.params.score.score_sample_size sets the sample count",
        ["dataloader.use_batch"] = "training always uses mini-batches of dataloader.batch_size",
    };

    private static readonly Dictionary<string, ConfigKey> _keysByPath =
        _keys.ToDictionary(key => key.Path, StringComparer.Ordinal);

    private static readonly HashSet<string> _sections = _keys
        .SelectMany(key => SectionsOf(key.Path))
        .ToHashSet(StringComparer.Ordinal);

    public static IReadOnlyList<ConfigKey> Keys => _keys;

    /// <summary>Every section path, for example <c>trainer</c> and <c>trainer.params</c>.</summary>
    public static IEnumerable<string> Sections => _sections;

    public static ConfigKey? FindKey(string path) => _keysByPath.GetValueOrDefault(path);

    /// <summary>Returns whether a path is a section (a mapping of keys), for example <c>trainer.params</c>.</summary>
    public static bool IsSection(string path) => _sections.Contains(path);

    /// <summary>Returns the reason a key of the original is ignored, or null when it is not an ignored key.</summary>
    public static string? FindIgnoredReason(string path) => _ignoredKeys.GetValueOrDefault(path);

    private static ConfigKey<T> Key<T>(
        string path,
        ValueRule<T> rule,
        Func<LipizzanerConfig, T> read,
        Action<LipizzanerConfig, T> write) => new(path, rule, read, write);

    private static ChoiceRule<string> Only(string name) => new([(name, name)]);

    private static IEnumerable<string> SectionsOf(string path)
    {
        for (int dot = path.IndexOf('.', StringComparison.Ordinal);
             dot >= 0;
             dot = path.IndexOf('.', dot + 1))
        {
            yield return path[..dot];
        }
    }
}
