using Lipizzaner.Core.Configuration;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ConfigAliasTests
{
    [Theory]
    [InlineData("4lp", NetworkKind.FourLayerPerceptron)]
    [InlineData("5lp", NetworkKind.FiveLayerPerceptron)]
    [InlineData("cnn28", NetworkKind.Cnn28)]
    [InlineData("cnn64", NetworkKind.Cnn64)]
    [InlineData("cnn128", NetworkKind.Cnn128)]
    [InlineData("four_layer_perceptron", NetworkKind.FourLayerPerceptron)]
    [InlineData("five_layer_perceptron", NetworkKind.FiveLayerPerceptron)]
    [InlineData("convolutional_grayscale128x128", NetworkKind.Cnn128)]
    [InlineData("4LP", NetworkKind.FourLayerPerceptron)]
    public void NetworkName_MapsToKind(string value, NetworkKind expected)
    {
        Assert.Equal(expected, Load(YamlFor("network.name", value)).Config.Network.Name);
    }

    [Theory]
    [InlineData("bceloss", LossKind.Bce)]
    [InlineData("mseloss", LossKind.Mse)]
    [InlineData("heuristicloss", LossKind.Heuristic)]
    [InlineData("mustangs", LossKind.Mustangs)]
    [InlineData("BCELoss", LossKind.Bce)]
    public void NetworkLoss_MapsToKind(string value, LossKind expected)
    {
        Assert.Equal(expected, Load(YamlFor("network.loss", value)).Config.Network.Loss);
    }

    [Theory]
    [InlineData("worst", FitnessMode.Worst)]
    [InlineData("worse", FitnessMode.Worst)]
    [InlineData("best", FitnessMode.Best)]
    [InlineData("average", FitnessMode.Average)]
    public void FitnessMode_MapsToMode(string value, FitnessMode expected)
    {
        Assert.Equal(expected,
            Load(YamlFor("trainer.params.fitness.fitness_mode", value)).Config.Trainer.Params.Fitness.FitnessMode);
    }

    [Theory]
    [InlineData("neighbourhood", OpponentSource.Neighbourhood)]
    [InlineData("neighborhood", OpponentSource.Neighbourhood)]
    [InlineData("selected", OpponentSource.Selected)]
    public void Opponent_MapsToSource(string value, OpponentSource expected)
    {
        Assert.Equal(expected, Load(YamlFor("trainer.params.opponent", value)).Config.Trainer.Params.Opponent);
    }

    [Theory]
    [InlineData("exact_proportion", MixtureSampling.ExactProportion)]
    [InlineData("independent_probability", MixtureSampling.IndependentProbability)]
    public void MixtureSamplesMode_MapsToSampling(string value, MixtureSampling expected)
    {
        Assert.Equal(expected,
            Load(YamlFor("trainer.mixture_generator_samples_mode", value)).Config.Trainer.MixtureGeneratorSamplesMode);
    }

    [Theory]
    [InlineData("async", RunMode.Asynchronous)]
    [InlineData("lockstep", RunMode.Lockstep)]
    public void RuntimeMode_MapsToMode(string value, RunMode expected)
    {
        Assert.Equal(expected, Load(YamlFor("runtime.mode", value)).Config.Runtime.Mode);
    }

    [Theory]
    [InlineData("always", true)]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("False", false)]
    [InlineData("false", false)]
    public void NetworkRandomized_AcceptsAlways(string value, bool expected)
    {
        string yaml = YamlFor("network.randomized", value).Replace("network:\n", "network:\n  loss: mustangs\n",
            StringComparison.Ordinal);

        Assert.Equal(expected, Load(yaml).Config.Network.Randomized);
    }

    [Theory]
    [InlineData("True", true)]
    [InlineData("TRUE", true)]
    [InlineData("yes", true)]
    [InlineData("on", true)]
    [InlineData("False", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    public void Boolean_AcceptsYaml11Words(string value, bool expected)
    {
        Assert.Equal(expected, Load(YamlFor("dataloader.shuffle", value)).Config.DataLoader.Shuffle);
    }

    [Fact]
    public void OriginalStyleFile_LoadsWithIgnoredWarningsOnly()
    {
        // Laid out like the original Lipizzaner's MNIST files, with general.yml's keys inlined.
        const string yaml = """
            trainer:
              name: lipizzaner_gan
              n_iterations: 50
              calculate_net_weights_dist: False
              mixture_generator_samples_mode: exact_proportion
              params:
                population_size: 1
                tournament_size: 2
                n_replacements: 1
                default_adam_learning_rate: 0.0002
                alpha: 0.0001
                mutation_probability: 0.5
                discriminator_skip_each_nth_step: 1
                mixture_sigma: 0.01
                enable_selection: True
                score:
                  enabled: True
                  type: fid
                  score_sample_size: 1000
                  cuda: True
                fitness:
                  fitness_sample_size: 1000
                  fitness_mode: worse
            dataloader:
              dataset_name: mnist
              use_batch: True
              batch_size: 100
              n_batches: 0
              shuffle: True
            network:
              name: four_layer_perceptron
              loss: bceloss
            master:
              calculate_score: True
              score_sample_size: 50000
              cuda: True
            general:
              logging:
                enabled: True
                log_level: INFO
              output_dir: ./output
              num_workers: 0
              losswise:
                enabled: False
              distribution:
                auto_discover: False
                client_nodes:
                  - address: 127.0.0.1
                    port: 5000-5003
              seed: 4
            """;

        var result = Load(yaml);

        Assert.Equal(9, result.Warnings.Count);
        Assert.All(result.Warnings, warning => Assert.Contains("is ignored by this implementation", warning));
        Assert.Equal(50, result.Config.Trainer.NIterations);
        Assert.Equal(FitnessMode.Worst, result.Config.Trainer.Params.Fitness.FitnessMode);
        Assert.Equal(NetworkKind.FourLayerPerceptron, result.Config.Network.Name);
        Assert.Equal(1, result.Config.Trainer.Params.DiscriminatorSkipEachNthStep);
        Assert.Equal(4, result.Config.General.Seed);
    }
}
