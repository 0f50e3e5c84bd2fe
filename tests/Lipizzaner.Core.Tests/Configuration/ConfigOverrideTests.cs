using Lipizzaner.Core.Configuration;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ConfigOverrideTests
{
    private const string _baseYaml = "trainer:\n  n_iterations: 20\n  params:\n    population_size: 1\n"
        + "    score:\n      enabled: true\n";

    [Fact]
    public void Override_ReplacesNestedValue()
    {
        var result = Load(_baseYaml, "trainer.params.population_size=3");

        Assert.Equal(3, result.Config.Trainer.Params.PopulationSize);
        Assert.Equal(20, result.Config.Trainer.NIterations);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Override_CreatesMissingSections()
    {
        var result = Load("", "trainer.params.optimize_mixture.es_generations=7", "runtime.device=cuda:1");

        Assert.Equal(7, result.Config.Trainer.Params.OptimizeMixture.EsGenerations);
        Assert.Equal("cuda:1", result.Config.Runtime.Device);
    }

    [Fact]
    public void Override_FillsEmptySection()
    {
        var result = Load("trainer:\n  params:\n    fitness:\n", "trainer.params.fitness.fitness_mode=best");

        Assert.Equal(FitnessMode.Best, result.Config.Trainer.Params.Fitness.FitnessMode);
    }

    [Fact]
    public void Override_ParsesValueAsYamlScalar()
    {
        var result = Load(
            _baseYaml,
            "trainer.params.score.enabled=false",
            "trainer.params.default_adam_learning_rate=1e-3",
            "dataloader.data_dir='/data/my mnist'",
            "network.name=\"5lp\"");

        Assert.False(result.Config.Trainer.Params.Score.Enabled);
        Assert.Equal(0.001, result.Config.Trainer.Params.DefaultAdamLearningRate);
        Assert.Equal("/data/my mnist", result.Config.DataLoader.DataDir);
        Assert.Equal(NetworkKind.FiveLayerPerceptron, result.Config.Network.Name);
    }

    [Fact]
    public void Override_EmptyValueIsNull()
    {
        var result = Load(
            "dataloader:\n  data_dir: /data\ntrainer:\n  params:\n    optimize_mixture:\n      mixture_sigma: 0.2\n",
            "dataloader.data_dir=",
            "trainer.params.optimize_mixture.mixture_sigma=");

        Assert.Equal("", result.Config.DataLoader.DataDir);
        Assert.Null(result.Config.Trainer.Params.OptimizeMixture.MixtureSigma);
    }

    [Fact]
    public void Override_LaterWins()
    {
        var result = Load(_baseYaml, "trainer.n_iterations=5", "trainer.n_iterations=8");

        Assert.Equal(8, result.Config.Trainer.NIterations);
    }

    [Fact]
    public void Override_KeepsEqualsSignsInValue()
    {
        var result = Load("", "dataloader.data_dir=/data/run=1");

        Assert.Equal("/data/run=1", result.Config.DataLoader.DataDir);
    }

    [Fact]
    public void Override_TrimsSpacesAroundKey()
    {
        var result = Load("", " trainer.n_iterations = 4");

        Assert.Equal(4, result.Config.Trainer.NIterations);
    }

    [Fact]
    public void UnknownOverrideKey_IsAnErrorWithSuggestion()
    {
        var error = Assert.Throws<ConfigException>(() => Load(_baseYaml, "trainer.params.population_sise=4"));

        Assert.Contains("unknown key 'trainer.params.population_sise' in --set", error.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'trainer.params.population_size'?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverrideIntoNewUnknownSection_IsAnError()
    {
        var error = Assert.Throws<ConfigException>(() => Load(_baseYaml, "plotting.dpi=300"));

        Assert.Contains("unknown key 'plotting' in --set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverrideOfIgnoredKey_Warns()
    {
        var result = Load(_baseYaml, "master.cuda=true");

        Assert.StartsWith("key 'master' in --set is ignored by this implementation", Assert.Single(result.Warnings));
    }

    [Theory]
    [InlineData("trainer.n_iterations", "has no '='")]
    [InlineData("=5", "has an empty key")]
    [InlineData("  =5", "has an empty key")]
    [InlineData("trainer..n_iterations=5", "has an empty part")]
    [InlineData("trainer.=5", "has an empty part")]
    [InlineData(".n_iterations=5", "has an empty part")]
    [InlineData("dataloader.data_dir=a: b", "must be a single YAML scalar")]
    [InlineData("trainer.n_iterations=[1, 2]", "must be a single YAML scalar")]
    [InlineData("dataloader.data_dir='unclosed", "is not valid YAML")]
    public void MalformedOverride_Invalid(string text, string reason)
    {
        var exception = LoadInvalid(_baseYaml, text);

        string error = Assert.Single(exception.Errors);
        Assert.Contains($"'{text}'", error);
        Assert.Contains(reason, error);
        Assert.StartsWith("Invalid --set override: ", exception.Message);
    }

    [Fact]
    public void MalformedOverride_ShowsExpectedFormat()
    {
        var exception = LoadInvalid(_baseYaml, "population_size");

        Assert.Contains("expected key.path=value, for example trainer.n_iterations=50", exception.Message);
    }

    [Fact]
    public void SeveralMalformedOverrides_AllListed()
    {
        var exception = LoadInvalid(_baseYaml, "a", "=1", "trainer.n_iterations=3");

        Assert.Equal(2, exception.Errors.Count);
        Assert.Contains("Invalid --set override (2 errors):", exception.Message);
    }

    [Fact]
    public void OverrideThroughValue_Invalid()
    {
        var exception = LoadInvalid(_baseYaml, "trainer.n_iterations.max=5");

        string error = Assert.Single(exception.Errors);
        Assert.Contains("'trainer.n_iterations' is a scalar (line 2), not a section", error);
    }

    [Fact]
    public void OverrideThroughEarlierOverride_Invalid()
    {
        var exception = LoadInvalid("", "grid=3", "grid.width=3");

        Assert.Contains("'grid' is a scalar (set by an earlier --set)", Assert.Single(exception.Errors));
    }

    [Fact]
    public void Overrides_NotAppliedToSourceText()
    {
        Load(_baseYaml, "trainer.n_iterations=5");
        var again = Load(_baseYaml);

        Assert.Equal(20, again.Config.Trainer.NIterations);
    }
}
