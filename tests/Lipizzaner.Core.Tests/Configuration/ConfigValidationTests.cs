using Lipizzaner.Core.Configuration;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ConfigValidationTests
{
    /// <summary>
    /// Key path, invalid YAML value, the value as the message shows it, and part of the expected range.
    /// </summary>
    public static TheoryData<string, string, string, string> InvalidValues => new()
    {
        { "general.seed", "-1", "-1", "an integer >= 0" },
        { "general.checkpoint_period", "-5", "-5", "an integer >= 0" },
        { "general.sample_period", "-1", "-1", "an integer >= 0" },
        { "grid.width", "0", "0", "an integer from 1 to 1024" },
        { "grid.width", "1025", "1025", "an integer from 1 to 1024" },
        { "grid.height", "0", "0", "an integer from 1 to 1024" },
        { "grid.height", "two", "two", "an integer from 1 to 1024" },
        { "trainer.name", "wgan_trainer", "wgan_trainer", "lipizzaner_gan" },
        { "trainer.n_iterations", "0", "0", "an integer >= 1" },
        { "trainer.mixture_generator_samples_mode", "random", "random", "exact_proportion, independent_probability" },
        { "trainer.params.population_size", "0", "0", "an integer >= 1" },
        { "trainer.params.population_size", "abc", "abc", "an integer >= 1" },
        { "trainer.params.population_size", "1.5", "1.5", "an integer >= 1" },
        { "trainer.params.population_size", "99999999999", "99999999999", "an integer >= 1" },
        { "trainer.params.tournament_size", "0", "0", "an integer >= 1" },
        { "trainer.params.n_replacements", "0", "0", "an integer >= 1" },
        { "trainer.params.default_adam_learning_rate", "0", "0", "a finite number > 0" },
        { "trainer.params.default_adam_learning_rate", "-0.001", "-0.001", "a finite number > 0" },
        { "trainer.params.default_adam_learning_rate", ".inf", ".inf", "a finite number > 0" },
        { "trainer.params.default_adam_learning_rate", "NaN", "NaN", "a finite number > 0" },
        { "trainer.params.default_adam_learning_rate", "fast", "fast", "a finite number > 0" },
        { "trainer.params.alpha", "-0.0001", "-0.0001", "a finite number >= 0" },
        { "trainer.params.mutation_probability", "1.5", "1.5", "a number from 0 to 1" },
        { "trainer.params.mutation_probability", "-0.1", "-0.1", "a number from 0 to 1" },
        { "trainer.params.discriminator_skip_each_nth_step", "-1", "-1", "an integer >= 0" },
        { "trainer.params.mixture_sigma", "-0.01", "-0.01", "a finite number >= 0" },
        { "trainer.params.enable_selection", "maybe", "maybe", "true or false" },
        { "trainer.params.enable_selection", "1", "1", "true or false" },
        { "trainer.params.opponent", "random", "random", "one of neighbourhood, selected" },
        { "trainer.params.score.enabled", "sometimes", "sometimes", "true or false" },
        { "trainer.params.score.type", "precision", "precision", "one of fid, kid, fid_resnet, inception_score" },
        { "trainer.params.score.kid_subsets", "0", "0", "an integer >= 1" },
        { "trainer.params.score.kid_subset_size", "1", "1", "an integer >= 2" },
        { "trainer.params.score.score_sample_size", "9", "9", "an integer >= 10" },
        { "trainer.params.score.final_sample_size", "0", "0", "an integer >= 10" },
        { "trainer.params.fitness.fitness_sample_size", "0", "0", "an integer >= 1" },
        { "trainer.params.fitness.fitness_mode", "median", "median", "one of worst, best, average" },
        { "trainer.params.optimize_mixture.es_generations", "-1", "-1", "an integer >= 0" },
        { "trainer.params.optimize_mixture.sample_size", "5", "5", "an integer >= 10" },
        { "trainer.params.optimize_mixture.mixture_sigma", "-0.5", "-0.5", "a finite number >= 0, or null" },
        { "dataloader.dataset_name", "cifar", "cifar", "mnist" },
        { "dataloader.batch_size", "0", "0", "an integer >= 1" },
        { "dataloader.n_batches", "-1", "-1", "an integer >= 0" },
        { "dataloader.shuffle", "often", "often", "true or false" },
        { "dataloader.sample_count", "0", "0", "an integer from 1 to 1024" },
        { "dataloader.sample_count", "2048", "2048", "an integer from 1 to 1024" },
        { "dataloader.dataset_name", "covid", "covid", "one of mnist, image_folder" },
        { "dataloader.image_size", "-28", "-28", "an integer >= 0" },
        { "dataloader.resize_policy", "stretch", "stretch", "one of center_crop, pad" },
        { "dataloader.strict", "perhaps", "perhaps", "true or false" },
        { "dataloader.smote_augmentation_times", "-1", "-1", "an integer >= 0" },
        { "dataloader.smote_neighbours", "0", "0", "an integer >= 1" },
        { "dataloader.gaussian_augmentation_times", "-2", "-2", "an integer >= 0" },
        { "dataloader.gaussian_augmentation_mean", "3", "3", "a number from -2 to 2" },
        { "dataloader.gaussian_augmentation_std", "-0.1", "-0.1", "a finite number >= 0" },
        { "network.name", "lstm", "lstm", "one of 4lp, 5lp, cnn28, cnn64, cnn128" },
        { "network.loss", "wasserstein", "wasserstein", "one of bceloss, mseloss, heuristicloss, mustangs" },
        { "network.randomized", "never", "never", "true, false or always" },
        { "runtime.mode", "sync", "sync", "one of async, lockstep" },
        { "runtime.parallelism", "-1", "-1", "an integer >= 0" },
        { "runtime.torch_threads", "0", "0", "an integer >= 1" },
        { "runtime.device", "tpu", "tpu", "cpu, cuda or cuda:N" },
        { "runtime.device", "cuda:x", "cuda:x", "cpu, cuda or cuda:N" },
        { "runtime.device", "cuda:-1", "cuda:-1", "cpu, cuda or cuda:N" },
        { "trainer.params.population_size", "", "an empty value", "an integer >= 1" },
        { "trainer.params.population_size", "\"two words\"", "\"two words\"", "an integer >= 1" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void InvalidValue_NamesKeyValueAndRange(string path, string value, string valueInMessage, string expected)
    {
        var exception = LoadInvalid(YamlFor(path, value));

        Assert.Single(exception.Errors);
        Assert.StartsWith($"{path}: {valueInMessage} is invalid; expected ", exception.Errors[0]);
        Assert.Contains(expected, exception.Errors[0]);
        Assert.Contains("test.yml", exception.Message);
        Assert.Contains($"{path}: {valueInMessage} is invalid", exception.Message);
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void InvalidOverride_NamesKeyValueAndSet(string path, string value, string valueInMessage, string expected)
    {
        var exception = LoadInvalid("", $"{path}={value}");

        Assert.Single(exception.Errors);
        Assert.StartsWith($"{path}: {valueInMessage} is invalid; expected ", exception.Errors[0]);
        Assert.Contains(expected, exception.Errors[0]);
        Assert.EndsWith("(from --set)", exception.Errors[0]);
    }

    [Fact]
    public void InvalidValue_GivesLineNumber()
    {
        const string yaml = "trainer:\n  n_iterations: 5\n  params:\n    population_size: 0\n";

        var exception = LoadInvalid(yaml);

        Assert.Equal(
            "trainer.params.population_size: 0 is invalid; expected an integer >= 1 (line 4)",
            exception.Errors[0]);
        Assert.Equal(
            "Invalid configuration in test.yml: trainer.params.population_size: 0 is invalid; "
            + "expected an integer >= 1 (line 4)",
            exception.Message);
    }

    [Fact]
    public void SeveralInvalidValues_ListedOnePerLine()
    {
        const string yaml = "grid:\n  width: 0\nnetwork:\n  name: lstm\n  loss: hinge\n";

        var exception = LoadInvalid(yaml);

        Assert.Equal(3, exception.Errors.Count);
        string[] lines = exception.Message.Split(Environment.NewLine);
        Assert.Equal("Invalid configuration in test.yml (3 errors):", lines[0]);
        Assert.Contains(lines, line => line.Contains("grid.width: 0 is invalid", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("network.name: lstm is invalid", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("network.loss: hinge is invalid", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{ a: 1 }", "a mapping")]
    [InlineData("[1, 2]", "a list")]
    public void CollectionForScalarKey_Invalid(string value, string valueInMessage)
    {
        var exception = LoadInvalid(YamlFor("trainer.params.population_size", value));

        Assert.StartsWith($"trainer.params.population_size: {valueInMessage} is invalid; expected an integer >= 1",
            exception.Errors[0]);
    }

    [Fact]
    public void NReplacementsAbovePopulation_Invalid()
    {
        const string yaml = "trainer:\n  params:\n    population_size: 2\n    n_replacements: 3\n";

        var exception = LoadInvalid(yaml);

        var error = Assert.Single(exception.Errors);
        Assert.Equal(
            "trainer.params.n_replacements: 3 is invalid; expected an integer from 1 to "
            + "trainer.params.population_size (2) (line 4)",
            error);
    }

    [Fact]
    public void NReplacementsAbovePopulation_NotReportedWhenPopulationInvalid()
    {
        const string yaml = "trainer:\n  params:\n    population_size: 0\n    n_replacements: 3\n";

        var exception = LoadInvalid(yaml);

        var error = Assert.Single(exception.Errors);
        Assert.StartsWith("trainer.params.population_size: 0 is invalid", error);
    }

    [Fact]
    public void NReplacementsEqualPopulation_Valid()
    {
        var config = Load("trainer:\n  params:\n    population_size: 3\n    n_replacements: 3\n").Config;

        Assert.Equal(3, config.Trainer.Params.NReplacements);
    }

    [Theory]
    [InlineData("trainer: 5", "trainer: 5 is invalid; expected a section of keys such as 'name'")]
    [InlineData("trainer:\n  params: [1]", "trainer.params: a list is invalid; expected a section of keys such as")]
    [InlineData("network: bceloss", "network: bceloss is invalid; expected a section of keys such as 'name'")]
    public void ScalarForSection_Invalid(string yaml, string expectedStart)
    {
        var exception = LoadInvalid(yaml);

        Assert.StartsWith(expectedStart, Assert.Single(exception.Errors));
    }

    [Fact]
    public void EmptySection_KeepsDefaults()
    {
        var config = Load("trainer:\n  params:\n    score:\n    fitness: {}\n").Config;

        Assert.Equal(new LipizzanerConfig().Trainer.Params.Score.ScoreSampleSize,
            config.Trainer.Params.Score.ScoreSampleSize);
    }

    [Theory]
    [InlineData("0", 0.0)]
    [InlineData("1", 1.0)]
    [InlineData("0.25", 0.25)]
    public void MutationProbabilityBounds_Valid(string value, double expected)
    {
        var config = Load(YamlFor("trainer.params.mutation_probability", value)).Config;

        Assert.Equal(expected, config.Trainer.Params.MutationProbability);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("1024", 1024)]
    public void GridBounds_Valid(string value, int expected)
    {
        var config = Load(YamlFor("grid.width", value)).Config;

        Assert.Equal(expected, config.Grid.Width);
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("cuda", "cuda")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("CUDA:3", "cuda:3")]
    public void Device_AcceptedAndLowerCased(string value, string expected)
    {
        var config = Load(YamlFor("runtime.device", value)).Config;

        Assert.Equal(expected, config.Runtime.Device);
    }

    [Fact]
    public void OptimizeMixtureSigma_NullMeansUnset()
    {
        var unset = Load(YamlFor("trainer.params.optimize_mixture.mixture_sigma", "null")).Config;
        var set = Load(YamlFor("trainer.params.optimize_mixture.mixture_sigma", "0.05")).Config;

        Assert.Null(unset.Trainer.Params.OptimizeMixture.MixtureSigma);
        Assert.Equal(0.05, set.Trainer.Params.OptimizeMixture.MixtureSigma);
    }

    [Fact]
    public void DataDir_EmptyValueMeansCache()
    {
        var config = Load(YamlFor("dataloader.data_dir", "")).Config;

        Assert.Equal("", config.DataLoader.DataDir);
    }
}
