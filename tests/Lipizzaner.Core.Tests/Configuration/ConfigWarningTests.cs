using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ConfigWarningTests
{
    [Fact]
    public void KnownKeysOnly_NoWarnings()
    {
        var result = Load("trainer:\n  n_iterations: 3\n  params:\n    population_size: 2\n");

        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void UnknownKey_Warns()
    {
        var result = Load("trainer:\n  params:\n    learning_schedule: cosine\n");

        Assert.Equal(
            "unknown key 'trainer.params.learning_schedule' in test.yml (ignored)",
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void UnknownSection_WarnsOnce()
    {
        var result = Load("plotting:\n  enabled: true\n  dpi: 300\n");

        Assert.Equal("unknown key 'plotting' in test.yml (ignored)", Assert.Single(result.Warnings));
    }

    [Fact]
    public void MisspelledKey_SuggestsKnownKey()
    {
        var result = Load("trainer:\n  params:\n    populaton_size: 2\n");

        Assert.Equal(
            "unknown key 'trainer.params.populaton_size' in test.yml (ignored); "
            + "did you mean 'trainer.params.population_size'?",
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void KeyInWrongSection_SuggestsKnownKey()
    {
        var result = Load("trainer:\n  population_size: 2\n");

        Assert.EndsWith("did you mean 'trainer.params.population_size'?", Assert.Single(result.Warnings));
        Assert.Equal(1, result.Config.Trainer.Params.PopulationSize);
    }

    [Theory]
    [InlineData("general:\n  logging:\n    enabled: true\n    log_level: INFO\n", "general.logging", "console")]
    [InlineData("general:\n  distribution:\n    auto_discover: false\n", "general.distribution", "top-level distribution section")]
    [InlineData("general:\n  num_workers: 4\n", "general.num_workers", "runtime.parallelism")]
    [InlineData("general:\n  output_dir: ./output\n", "general.output_dir", "run folder")]
    [InlineData("general:\n  losswise:\n    enabled: false\n", "general.losswise", "Losswise")]
    [InlineData("master:\n  calculate_score: true\n  score_sample_size: 50000\n", "master", "final_sample_size")]
    [InlineData("trainer:\n  calculate_net_weights_dist: false\n", "trainer.calculate_net_weights_dist", "weights")]
    [InlineData("trainer:\n  params:\n    score:\n      cuda: true\n", "trainer.params.score.cuda", "runtime.device")]
    [InlineData("trainer:\n  params:\n    score:\n      sample_size: 500\n", "trainer.params.score.sample_size",
        "score_sample_size")]
    [InlineData("dataloader:\n  use_batch: true\n", "dataloader.use_batch", "batch_size")]
    public void OriginalKey_WarnsIgnoredWithReason(string yaml, string path, string reasonPart)
    {
        var result = Load(yaml);

        string warning = Assert.Single(result.Warnings);
        Assert.StartsWith($"key '{path}' in test.yml is ignored by this implementation: ", warning);
        Assert.Contains(reasonPart, warning);
    }

    [Fact]
    public void IgnoredSampleSize_KeepsScoreSampleSize()
    {
        var result = Load("trainer:\n  params:\n    score:\n      sample_size: 500\n      score_sample_size: 2000\n");

        Assert.Equal(2000, result.Config.Trainer.Params.Score.ScoreSampleSize);
    }

    /// <summary>Grid size, population, tournament, and the cap that the warning names (0: no warning).</summary>
    [Theory]
    [InlineData(1, 1, 1, 2, 1)]
    [InlineData(1, 1, 1, 1, 0)]
    [InlineData(2, 1, 1, 3, 2)]
    [InlineData(2, 2, 1, 3, 0)]
    [InlineData(2, 2, 1, 4, 3)]
    [InlineData(1, 3, 1, 4, 3)]
    [InlineData(3, 3, 1, 5, 0)]
    [InlineData(3, 3, 1, 6, 5)]
    [InlineData(4, 5, 2, 11, 10)]
    public void TournamentAbovePool_WarnsWithCap(int width, int height, int population, int tournament, int cap)
    {
        string yaml = $"grid:\n  width: {width}\n  height: {height}\ntrainer:\n  params:\n"
            + $"    population_size: {population}\n    tournament_size: {tournament}\n";

        var result = Load(yaml);

        if (cap == 0)
        {
            Assert.Empty(result.Warnings);
            return;
        }

        string warning = Assert.Single(result.Warnings);
        Assert.StartsWith($"trainer.params.tournament_size: {tournament} is larger than the selection pool of {cap} ",
            warning);
        Assert.EndsWith($"caps the tournament at {cap}", warning);
        Assert.Equal(tournament, result.Config.Trainer.Params.TournamentSize);
    }

    [Fact]
    public void TournamentWithoutSelection_NoWarning()
    {
        var result = Load("grid:\n  width: 1\n  height: 1\ntrainer:\n  params:\n"
            + "    enable_selection: false\n    tournament_size: 9\n");

        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void RandomizedWithoutMustangs_Warns()
    {
        var withBce = Load("network:\n  loss: bceloss\n  randomized: true\n");
        var withMustangs = Load("network:\n  loss: mustangs\n  randomized: true\n");

        Assert.Contains("network.loss is mustangs", Assert.Single(withBce.Warnings));
        Assert.Empty(withMustangs.Warnings);
    }

    [Fact]
    public void WarningsAndError_ErrorWins()
    {
        var exception = LoadInvalid("unknown_section: 1\ngrid:\n  width: 0\n");

        Assert.StartsWith("grid.width: 0 is invalid", Assert.Single(exception.Errors));
    }
}
