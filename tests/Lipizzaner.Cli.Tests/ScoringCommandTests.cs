using System.Text.Json;
using Lipizzaner.Cli.Commands;
using Lipizzaner.Core.Interop;

namespace Lipizzaner.Cli.Tests;

/// <summary>
/// The scoring commands on the original Lipizzaner's reference files: its MNIST classifier, two of its
/// pretrained 4lp generators and its saved latent noise (kept in a shared folder beside the repository).
/// </summary>
public sealed class ScoringCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lipizzaner-cli-tests", Guid.NewGuid().ToString("N"));

    public ScoringCommandTests() => Directory.CreateDirectory(_directory);

    [Theory]
    [InlineData(false, 37.8427)]
    [InlineData(true, 37.9173)]
    public async Task Score_OriginalGenerator_MatchesReference(bool dropRemainder, double expected)
    {
        string[] args =
        [
            "score", "--pytorch-generator", Reference("mnist-generator-000.pkl"), "--network", "4lp",
            "--latents", Reference("latents-seed0-10000x64.f32"), "--classifier", Reference("mnist_cnn.pkl"), "--json",
        ];
        if (dropRemainder)
        {
            args = [.. args, "--drop-remainder"];
        }

        var (exitCode, output, standardOutput) = await CommandRunner.RunWithStandardOutputAsync(args);

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        using var json = JsonDocument.Parse(standardOutput);
        Assert.Equal(expected, json.RootElement.GetProperty("fid").GetDouble(), expected * 1e-5);
        Assert.True(json.RootElement.GetProperty("tvd").GetDouble() is > 0.05 and < 0.2);
        Assert.EndsWith("mnist_cnn.pkl", json.RootElement.GetProperty("classifier").GetString(), StringComparison.Ordinal);
        Assert.Equal(1.0, json.RootElement.GetProperty("generators").GetProperty("mnist-generator-000.pkl").GetDouble());
    }

    [Fact]
    public async Task Score_WrongWeightCount_IsRejected()
    {
        var (exitCode, output) = await CommandRunner.RunAsync(
            "score", "--pytorch-generator", Reference("mnist-generator-000.pkl"), Reference("mnist-generator-001.pkl"),
            "--network", "4lp", "--weights", "1,2,3", "--samples", "100");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("3 values for 2 generators", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_DropRemainderBelowOneBatch_ExplainsWhy()
    {
        var (exitCode, output) = await CommandRunner.RunAsync(
            "score", "--pytorch-generator", Reference("mnist-generator-000.pkl"), "--network", "4lp",
            "--samples", "50", "--drop-remainder", "--classifier", Reference("mnist_cnn.pkl"));

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("leaves 0 of 50", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_SeedWithLatents_IsRejected()
    {
        var (exitCode, output) = await CommandRunner.RunAsync(
            "score", "--pytorch-generator", Reference("mnist-generator-000.pkl"), "--network", "4lp",
            "--latents", Reference("latents-seed0-10000x64.f32"), "--seed", "5");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("--seed and --latents", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_WithoutNetwork_SaysItIsRequired()
    {
        var (exitCode, output) = await CommandRunner.RunAsync("score", "--pytorch-generator", Reference("mnist-generator-000.pkl"));

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("--network is required", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_WrongNetwork_NamesMismatchedKeys()
    {
        var (exitCode, output) = await CommandRunner.RunAsync(
            "score", "--pytorch-generator", Reference("mnist-generator-000.pkl"), "--network", "5lp", "--samples", "100");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("6.weight", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassifierEvaluate_OriginalClassifier_Gives9927()
    {
        var (exitCode, output, standardOutput) = await CommandRunner.RunWithStandardOutputAsync(
            "classifier", "evaluate", "--classifier", Reference("mnist_cnn.pkl"), "--json");

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        using var json = JsonDocument.Parse(standardOutput);
        Assert.Equal(9927, json.RootElement.GetProperty("correct").GetInt32());
        Assert.Equal(0.9927, json.RootElement.GetProperty("accuracy").GetDouble(), 1e-12);
    }

    [Fact]
    public async Task MixtureOptimize_NeverEndsWorse()
    {
        string optimized = Path.Combine(_directory, "optimized");

        var (exitCode, output, standardOutput) = await CommandRunner.RunWithStandardOutputAsync(
            "mixture", "optimize", "--pytorch-generator", Reference("mnist-generator-000.pkl"), Reference("mnist-generator-001.pkl"),
            "--network", "4lp", "--samples", "1000", "--es-generations", "4", "--mixture-sigma", "0.2",
            "--classifier", Reference("mnist_cnn.pkl"), "--out", optimized, "--json");

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        using var json = JsonDocument.Parse(standardOutput);
        double before = json.RootElement.GetProperty("fid_before").GetDouble();
        double after = json.RootElement.GetProperty("fid_after").GetDouble();
        Assert.True(after <= before, $"FID rose from {before} to {after}");
        Assert.Equal(1.0, json.RootElement.GetProperty("weights").EnumerateObject().Sum(weight => weight.Value.GetDouble()), 1e-9);
        Assert.True(File.Exists(Path.Combine(optimized, "mixture.json")));
    }

    [Fact]
    public async Task Export_WritesStateDictsWithOriginalKeys()
    {
        string optimized = Path.Combine(_directory, "mixture");
        var (optimizeExit, optimizeOutput) = await CommandRunner.RunAsync(
            "mixture", "optimize", "--pytorch-generator", Reference("mnist-generator-000.pkl"), "--network", "4lp",
            "--samples", "100", "--es-generations", "0", "--classifier", Reference("mnist_cnn.pkl"), "--out", optimized);
        Assert.True(optimizeExit == LipizzanerCommand.Success, optimizeOutput);
        string exported = Path.Combine(_directory, "exported");

        var (exitCode, output) = await CommandRunner.RunAsync("export", "--mixture", optimized, "--out", exported);

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        string file = Assert.Single(Directory.GetFiles(exported, "generator-*.pt"));
        var entries = PyTorchStateDict.Read(file);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], entries.Select(entry => entry.Name));
        Assert.True(File.Exists(Path.Combine(exported, "weights.json")));

        var (againExit, againOutput) = await CommandRunner.RunAsync("export", "--mixture", optimized, "--out", exported);
        Assert.Equal(LipizzanerCommand.Failure, againExit);
        Assert.Contains("already exists", againOutput, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder does not affect the result.
        }
    }

    private static string Reference(string name)
    {
        var searched = new List<string>();
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "shared", "reference", "lipizzaner-pytorch", name);
            searched.Add(candidate);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Reference file {name} not found; looked in: {string.Join(", ", searched)}.");
    }
}
