using Lipizzaner.Core.Configuration;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Configuration;

public sealed class ConfigFileTests : IDisposable
{
    private readonly string _folder =
        Path.Combine(Path.GetTempPath(), "lipizzaner-config-" + Guid.NewGuid().ToString("N"));

    public ConfigFileTests()
    {
        Directory.CreateDirectory(_folder);
    }

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void LoadFile_ReadsFileAndOverrides()
    {
        string path = Path.Combine(_folder, "run.yml");
        File.WriteAllText(path, "trainer:\n  n_iterations: 12\n  unknown: 1\n");

        var result = ConfigLoader.LoadFile(path, ["grid.width=4"]);

        Assert.Equal(12, result.Config.Trainer.NIterations);
        Assert.Equal(4, result.Config.Grid.Width);
        Assert.Equal($"unknown key 'trainer.unknown' in {path} (ignored)", Assert.Single(result.Warnings));
    }

    [Fact]
    public void LoadFile_InvalidValueNamesFile()
    {
        string path = Path.Combine(_folder, "bad.yml");
        File.WriteAllText(path, "grid:\n  width: 0\n");

        var exception = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path, []));

        Assert.StartsWith($"Invalid configuration in {path}: grid.width: 0 is invalid", exception.Message);
    }

    [Fact]
    public void MissingFile_NamesPathAndFix()
    {
        string path = Path.Combine(_folder, "missing.yml");

        var exception = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path, []));

        Assert.Contains($"Configuration file not found: {path}", exception.Message);
        Assert.Contains("configs/quickstart-mnist.yml", exception.Message);
    }

    [Fact]
    public void FolderPath_Invalid()
    {
        var exception = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(_folder, []));

        Assert.Contains($"{_folder} is a folder", exception.Message);
    }

    [Fact]
    public void EmptyPath_Invalid()
    {
        var exception = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(" ", []));

        Assert.Contains("path is empty", exception.Message);
    }

    [Theory]
    [InlineData("trainer:\n  n_iterations: 5\n   params: 1\n", "line 3")]
    [InlineData("trainer:\n  name: 'unclosed\n", "line 2")]
    [InlineData("grid:\n  width: 2\n  width: 3\n", "Duplicate key")]
    [InlineData("grid: [1,\n  width: 2\n", "line")]
    [InlineData("grid:\n\twidth: 2\n", "invalid tab")]
    [InlineData("grid: [1\nwidth: 2\n", "check for an unclosed '['")]
    public void SyntaxError_NamesSourceAndPosition(string yaml, string expected)
    {
        var exception = LoadInvalid(yaml);

        Assert.StartsWith("Invalid YAML in test.yml ", exception.Message);
        Assert.Contains(expected, exception.Message);
    }

    [Fact]
    public void SyntaxError_GivesLineAndColumn()
    {
        var exception = LoadInvalid("grid:\n  width: 2\n  width: 3\n");

        Assert.Contains("at line 3, column 3", exception.Message);
    }

    [Fact]
    public void SeveralDocuments_Invalid()
    {
        var exception = LoadInvalid("grid:\n  width: 2\n---\ngrid:\n  width: 3\n");

        Assert.Contains("2 YAML documents", exception.Message);
    }

    [Theory]
    [InlineData("- 1\n- 2\n", "list")]
    [InlineData("just text\n", "scalar")]
    public void NonMappingDocument_Invalid(string yaml, string kind)
    {
        var exception = LoadInvalid(yaml);

        Assert.Contains($"the document is a {kind}; expected a mapping", exception.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("~\n")]
    public void EmptyDocument_GivesDefaults(string yaml)
    {
        var result = Load(yaml);

        Assert.Empty(Differences(new LipizzanerConfig(), result.Config));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Include_RejectedWithFix()
    {
        var exception = LoadInvalid("general: !include ../general.yml\n");

        Assert.Contains("general: '!include ../general.yml' (line 1) is not supported", exception.Message);
        Assert.Contains("copy the included file's keys", exception.Message);
    }

    [Fact]
    public void NonScalarKey_Invalid()
    {
        var exception = LoadInvalid("trainer:\n  ? [a, b]\n  : 1\n");

        Assert.Contains("a key in section 'trainer' (line 2) is not a plain name", exception.Message);
    }

    [Fact]
    public void DottedKeyBesideNested_SetTwice()
    {
        var exception = LoadInvalid("grid:\n  width: 2\ngrid.width: 3\n");

        Assert.Contains("grid.width: set twice (line 2 and line 3)", exception.Message);
    }

    [Fact]
    public void AnchorsAndAliases_Resolved()
    {
        var config = Load("grid:\n  width: &size 4\n  height: *size\n").Config;

        Assert.Equal(4, config.Grid.Height);
    }
}
