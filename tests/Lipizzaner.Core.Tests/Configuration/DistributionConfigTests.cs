using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class DistributionConfigTests
{
    [Fact]
    public void Unset_distribution_keys_stay_null()
    {
        var distribution = Load("grid: { width: 2, height: 2 }\n").Config.Distribution;

        Assert.Null(distribution.MinClients);
        Assert.Null(distribution.MaxClients);
        Assert.Null(distribution.RegistrationTimeout);
        Assert.Null(distribution.FinishProportion);
        Assert.Null(distribution.StragglerTimeout);
        Assert.Null(distribution.MaxDeadCells);
        Assert.Null(distribution.LeaseDuration);
        Assert.Null(distribution.HeartbeatInterval);
        Assert.Null(distribution.MaxAspectRatio);
    }

    [Fact]
    public void Distribution_section_binds_every_key()
    {
        const string yaml = """
            distribution:
              min_clients: 4
              max_clients: 9
              registration_timeout: 120
              finish_proportion: 0.75
              straggler_timeout: 30.5
              max_dead_cells: 2
              lease_duration: 45
              heartbeat_interval: 15
              max_aspect_ratio: 1.5
            """;

        var distribution = Load(yaml).Config.Distribution;

        Assert.Equal(4, distribution.MinClients);
        Assert.Equal(9, distribution.MaxClients);
        Assert.Equal(120, distribution.RegistrationTimeout);
        Assert.Equal(0.75, distribution.FinishProportion);
        Assert.Equal(30.5, distribution.StragglerTimeout);
        Assert.Equal(2, distribution.MaxDeadCells);
        Assert.Equal(45, distribution.LeaseDuration);
        Assert.Equal(15, distribution.HeartbeatInterval);
        Assert.Equal(1.5, distribution.MaxAspectRatio);
    }

    [Theory]
    [InlineData("distribution.min_clients", "0", "an integer >= 1")]
    [InlineData("distribution.max_clients", "many", "an integer >= 1")]
    [InlineData("distribution.registration_timeout", "0", "a finite number > 0")]
    [InlineData("distribution.finish_proportion", "0", "a number > 0 and <= 1")]
    [InlineData("distribution.finish_proportion", "1.5", "a number > 0 and <= 1")]
    [InlineData("distribution.straggler_timeout", "-1", "a finite number >= 0")]
    [InlineData("distribution.max_dead_cells", "-1", "an integer >= 0")]
    [InlineData("distribution.lease_duration", "0", "a finite number > 0")]
    [InlineData("distribution.heartbeat_interval", "-2", "a finite number > 0")]
    [InlineData("distribution.max_aspect_ratio", "0.5", "a number from 1 to 1000")]
    public void Invalid_distribution_value_names_key_and_range(string path, string value, string expected)
    {
        var error = LoadInvalid(YamlFor(path, value));

        Assert.Contains($"{path}: {value} is invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Max_clients_below_min_clients_is_an_error()
    {
        var error = LoadInvalid("distribution: { min_clients: 8, max_clients: 4 }\n");

        Assert.Contains("distribution.max_clients: 4 is invalid; expected at least distribution.min_clients (8)",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Heartbeat_over_a_third_of_the_lease_is_an_error()
    {
        var error = LoadInvalid("distribution: { lease_duration: 30, heartbeat_interval: 11 }\n");

        Assert.Contains("distribution.heartbeat_interval: 11 s is invalid; expected at most a third of distribution.lease_duration (30 s)",
            error.Message, StringComparison.Ordinal);
        Assert.Equal(10, Load("distribution: { lease_duration: 30, heartbeat_interval: 10 }\n").Config.Distribution.HeartbeatInterval);
    }

    [Fact]
    public void Distribution_override_from_the_command_line_is_validated()
    {
        Assert.Equal(3, Load("", "distribution.max_dead_cells=3").Config.Distribution.MaxDeadCells);
        var error = LoadInvalid("", "distribution.finish_proportion=2");
        Assert.Contains("distribution.finish_proportion: 2 is invalid", error.Message, StringComparison.Ordinal);
    }
}
