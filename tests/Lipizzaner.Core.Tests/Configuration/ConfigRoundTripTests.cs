using Lipizzaner.Core.Configuration;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ConfigRoundTripTests
{
    /// <summary>Sets every key to a valid value that differs from its default.</summary>
    private const string _everyKeyChanged = """
        general:
          seed: 7
          checkpoint_period: 3
          sample_period: 0
        grid:
          width: 5
          height: 3
        trainer:
          name: lipizzaner_gan
          n_iterations: 42
          mixture_generator_samples_mode: independent_probability
          params:
            population_size: 3
            tournament_size: 4
            n_replacements: 2
            default_adam_learning_rate: 0.00015
            alpha: 0.0003
            mutation_probability: 0.25
            discriminator_skip_each_nth_step: 2
            mixture_sigma: 0.05
            enable_selection: false
            opponent: selected
            score:
              enabled: false
              type: inception_score
              kid_subsets: 20
              kid_subset_size: 50
              classifier_onnx: /models/classifier.onnx
              score_sample_size: 500
              final_sample_size: 2000
            fitness:
              fitness_sample_size: 250
              fitness_mode: worst
            optimize_mixture:
              es_generations: 12
              sample_size: 300
              mixture_sigma: 0.02
        dataloader:
          dataset_name: image_folder
          batch_size: 64
          n_batches: 17
          shuffle: false
          sample_count: 36
          data_dir: /data/mnist "raw"
          path: /data/chest x-rays
          image_size: 64
          resize_policy: pad
          strict: true
          smote_augmentation_times: 15
          smote_neighbours: 3
          gaussian_augmentation_times: 2
          gaussian_augmentation_mean: -0.25
          gaussian_augmentation_std: 0.05
        network:
          name: cnn64
          loss: mustangs
          randomized: always
        runtime:
          mode: lockstep
          parallelism: 2
          torch_threads: 3
          device: cuda:1
        distribution:
          min_clients: 6
          max_clients: 12
          registration_timeout: 90
          finish_proportion: 0.8
          straggler_timeout: 0
          max_dead_cells: 0
          lease_duration: 40.5
          heartbeat_interval: 10
          max_aspect_ratio: 3
        """;

    /// <summary>Properties that have a single valid value, so no file can change them.</summary>
    private static readonly string[] _singleChoiceProperties =
    [
        "LipizzanerConfig.Trainer.Name",
    ];

    [Fact]
    public void EveryKeyChanged_CoversEveryProperty()
    {
        var defaults = Leaves(new LipizzanerConfig()).ToDictionary(leaf => leaf.Name, leaf => leaf.Value);
        var changed = Leaves(Load(_everyKeyChanged).Config);

        var unchanged = changed
            .Where(leaf => Equals(defaults[leaf.Name], leaf.Value) && !_singleChoiceProperties.Contains(leaf.Name))
            .Select(leaf => leaf.Name)
            .ToList();

        // A property listed here has no key in the loader's table, or this test's YAML misses it.
        Assert.Empty(unchanged);
    }

    [Fact]
    public void EveryKeyChanged_RoundTripsEqual()
    {
        var original = Load(_everyKeyChanged);

        string yaml = ConfigLoader.ToYaml(original.Config);
        var reloaded = Load(yaml);

        Assert.Empty(Differences(original.Config, reloaded.Config));
        Assert.Empty(reloaded.Warnings);
        Assert.Equal(yaml, ConfigLoader.ToYaml(reloaded.Config));
    }

    [Fact]
    public void Defaults_RoundTripEqual()
    {
        string yaml = ConfigLoader.ToYaml(new LipizzanerConfig());
        var reloaded = Load(yaml);

        Assert.Empty(Differences(new LipizzanerConfig(), reloaded.Config));
        Assert.Empty(reloaded.Warnings);
    }

    [Fact]
    public void EnumValues_AllRoundTrip()
    {
        var failures = new List<string>();
        foreach (var network in Enum.GetValues<NetworkKind>())
        {
            foreach (var loss in Enum.GetValues<LossKind>())
            {
                var config = new LipizzanerConfig();
                config.Network.Name = network;
                config.Network.Loss = loss;
                failures.AddRange(Differences(config, Load(ConfigLoader.ToYaml(config)).Config));
            }
        }

        foreach (var fitness in Enum.GetValues<FitnessMode>())
        {
            foreach (var opponent in Enum.GetValues<OpponentSource>())
            {
                foreach (var sampling in Enum.GetValues<MixtureSampling>())
                {
                    foreach (var mode in Enum.GetValues<RunMode>())
                    {
                        var config = new LipizzanerConfig();
                        config.Trainer.Params.Fitness.FitnessMode = fitness;
                        config.Trainer.Params.Opponent = opponent;
                        config.Trainer.MixtureGeneratorSamplesMode = sampling;
                        config.Runtime.Mode = mode;
                        failures.AddRange(Differences(config, Load(ConfigLoader.ToYaml(config)).Config));
                    }
                }
            }
        }

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/data/mnist")]
    [InlineData("C:\\data\\mnist")]
    [InlineData("it's \"quoted\"")]
    [InlineData("line\nbreak\ttab")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("# not a comment")]
    public void DataDir_RoundTripsExactly(string dataDir)
    {
        var config = new LipizzanerConfig();
        config.DataLoader.DataDir = dataDir;

        var reloaded = Load(ConfigLoader.ToYaml(config)).Config;

        Assert.Equal(dataDir, reloaded.DataLoader.DataDir);
    }

    [Theory]
    [InlineData(0.0002)]
    [InlineData(1e-7)]
    [InlineData(0.1 + 0.2)]
    [InlineData(123456.789)]
    public void LearningRate_RoundTripsExactly(double rate)
    {
        var config = new LipizzanerConfig();
        config.Trainer.Params.DefaultAdamLearningRate = rate;

        var reloaded = Load(ConfigLoader.ToYaml(config)).Config;

        Assert.Equal(rate, reloaded.Trainer.Params.DefaultAdamLearningRate);
    }

    [Fact]
    public void UnsetOptionalValue_WrittenAsNull()
    {
        var config = new LipizzanerConfig();
        config.Trainer.Params.OptimizeMixture.MixtureSigma = null;

        string yaml = ConfigLoader.ToYaml(config);

        Assert.Contains(
            "    optimize_mixture:\n      es_generations: 0\n      sample_size: 1000\n      mixture_sigma: null\n",
            yaml,
            StringComparison.Ordinal);
        Assert.Null(Load(yaml).Config.Trainer.Params.OptimizeMixture.MixtureSigma);
    }

    [Fact]
    public void ToYaml_UsesOriginalSectionLayout()
    {
        string yaml = ConfigLoader.ToYaml(new LipizzanerConfig());

        Assert.StartsWith("general:\n  seed: 1\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\ntrainer:\n  name: lipizzaner_gan\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\n  params:\n    population_size: 1\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\n    score:\n      enabled: true\n      type: fid\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\nnetwork:\n  name: 4lp\n  loss: bceloss\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\n      fitness_mode: average\n", yaml, StringComparison.Ordinal);
        Assert.Contains("\nruntime:\n  mode: async\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  device: cpu\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void ToYaml_WritesEveryKeyOnce()
    {
        string yaml = ConfigLoader.ToYaml(new LipizzanerConfig());
        var keyLines = yaml.Split('\n')
            .Where(line => line.Contains(": ", StringComparison.Ordinal))
            .ToList();

        // One line per leaf property of LipizzanerConfig, each a "key: value" line.
        Assert.Equal(Leaves(new LipizzanerConfig()).Count, keyLines.Count);
    }
}
