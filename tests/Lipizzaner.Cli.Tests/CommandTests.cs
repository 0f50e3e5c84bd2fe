using Lipizzaner.Cli.Commands;
using SkiaSharp;

// The tests redirect the process-wide Console streams, so they must not overlap.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Lipizzaner.Cli.Tests;

public sealed class CommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lipizzaner-cli-tests", Guid.NewGuid().ToString("N"));

    public CommandTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public async Task Train_WithoutConfig_FailsWithHint()
    {
        var (exitCode, error) = await RunAsync("train");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("-f CONFIG", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_InvalidValue_NamesKeyAndValue()
    {
        string config = Path.Combine(_directory, "bad.yml");
        await File.WriteAllTextAsync(config, "trainer:\n  params:\n    population_size: 0\n");

        var (exitCode, error) = await RunAsync("train", "-f", config, "--output", Path.Combine(_directory, "run"));

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("trainer.params.population_size", error, StringComparison.Ordinal);
        Assert.Contains("0", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "run", "scores.csv")));
    }

    [Fact]
    public async Task Train_BadOverride_FailsBeforeTraining()
    {
        string config = Path.Combine(_directory, "good.yml");
        await File.WriteAllTextAsync(config, "grid:\n  width: 1\n  height: 1\n");

        var (exitCode, error) = await RunAsync("train", "-f", config, "--set", "grid.width");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("grid.width", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_ExistingRunFolder_IsRejected()
    {
        string config = Path.Combine(_directory, "good.yml");
        await File.WriteAllTextAsync(config, "grid:\n  width: 1\n  height: 1\n");
        string run = Path.Combine(_directory, "existing");
        Directory.CreateDirectory(run);
        await File.WriteAllTextAsync(Path.Combine(run, "scores.csv"), "kept");

        var (exitCode, error) = await RunAsync("train", "-f", config, "--output", run);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Contains("--resume", error, StringComparison.Ordinal);
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(run, "scores.csv")));
    }

    [Fact]
    public async Task Sample_NonNumericCount_GivesOneLineError()
    {
        var (exitCode, error) = await RunAsync("sample", "--mixture", _directory, "--count", "five", "--out", _directory);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("five", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Usage:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_MissingRunFolder_FailsWithPath()
    {
        string missing = Path.Combine(_directory, "no-such-run");

        var (exitCode, error) = await RunAsync("train", "--resume", missing);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains(missing, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainThenSample_WritesRequestedImages()
    {
        string config = Path.Combine(_directory, "tiny.yml");
        await File.WriteAllTextAsync(config, """
            grid: { width: 2, height: 1 }
            trainer:
              n_iterations: 2
              params:
                opponent: selected
                score: { enabled: false }
                fitness: { fitness_sample_size: 100 }
            dataloader: { n_batches: 3, sample_count: 4 }
            runtime: { mode: lockstep }
            """);
        string run = Path.Combine(_directory, "run");

        var (trainExit, trainError) = await RunAsync("train", "-f", config, "--output", run);
        Assert.True(trainExit == LipizzanerCommand.Success, trainError);
        Assert.True(File.Exists(Path.Combine(run, "report.md")));
        Assert.True(File.Exists(Path.Combine(run, "mixture", "mixture.json")));

        string images = Path.Combine(_directory, "images");
        var (sampleExit, sampleError) = await RunAsync(
            "sample", "--mixture", Path.Combine(run, "mixture"), "--count", "7", "--out", images, "--seed", "3");

        Assert.True(sampleExit == LipizzanerCommand.Success, sampleError);
        string[] files = Directory.GetFiles(images, "sample-*.png").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(7, files.Length);
        using var bitmap = SKBitmap.Decode(files[0]);
        Assert.Equal(28, bitmap.Width);
        Assert.Equal(28, bitmap.Height);
    }

    [Fact]
    public async Task Sample_CorruptGenerator_FailsChecksum()
    {
        string config = Path.Combine(_directory, "tiny.yml");
        await File.WriteAllTextAsync(config, """
            grid: { width: 1, height: 1 }
            trainer:
              n_iterations: 1
              params:
                tournament_size: 1
                score: { enabled: false }
                fitness: { fitness_sample_size: 100 }
            dataloader: { n_batches: 2, sample_count: 4 }
            """);
        string run = Path.Combine(_directory, "run");
        var (trainExit, trainError) = await RunAsync("train", "-f", config, "--output", run);
        Assert.True(trainExit == LipizzanerCommand.Success, trainError);

        string generator = Directory.GetFiles(Path.Combine(run, "mixture"), "generator-*.bin").Single();
        byte[] content = await File.ReadAllBytesAsync(generator);
        content[100] ^= 0x01;
        await File.WriteAllBytesAsync(generator, content);

        var (exitCode, error) = await RunAsync(
            "sample", "--mixture", Path.Combine(run, "mixture"), "--count", "2", "--out", Path.Combine(_directory, "images"));

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("SHA-256", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportCheckpoint_WritesCenterAsStateDicts()
    {
        string config = Path.Combine(_directory, "tiny.yml");
        await File.WriteAllTextAsync(config, """
            general: { checkpoint_period: 1 }
            grid: { width: 1, height: 1 }
            trainer:
              n_iterations: 1
              params:
                tournament_size: 1
                score: { enabled: false }
                fitness: { fitness_sample_size: 100 }
            dataloader: { n_batches: 2, sample_count: 4 }
            """);
        string run = Path.Combine(_directory, "run");
        var (trainExit, trainError) = await RunAsync("train", "-f", config, "--output", run);
        Assert.True(trainExit == LipizzanerCommand.Success, trainError);
        string exported = Path.Combine(_directory, "exported");

        var (exitCode, output) = await RunAsync(
            "export", "--checkpoint", Path.Combine(run, "checkpoints", "cell-0-0", "gen-000001.ckpt"), "--out", exported);

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        string[] keys = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"];
        Assert.Equal(keys, Core.Interop.PyTorchStateDict.Read(Path.Combine(exported, "generator.pt")).Select(entry => entry.Name));
        var discriminator = Core.Interop.PyTorchStateDict.Read(Path.Combine(exported, "discriminator.pt"));
        Assert.Equal(keys, discriminator.Select(entry => entry.Name));
        Assert.Equal([1L, 256L], discriminator[4].Tensor.shape);
    }

    [Fact]
    public async Task Sample_ZeroCount_IsRejected()
    {
        var (exitCode, error) = await RunAsync(
            "sample", "--mixture", _directory, "--count", "0", "--out", Path.Combine(_directory, "images"));

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("--count 0", error, StringComparison.Ordinal);
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

    private static Task<(int ExitCode, string Error)> RunAsync(params string[] args) => CommandRunner.RunAsync(args);
}

/// <summary>Runs the CLI in this process and returns its exit code with everything it printed.</summary>
internal static class CommandRunner
{
    /// <summary>Returns the exit code, everything printed (errors first), and standard output alone.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var (exitCode, output, _) = await RunWithStandardOutputAsync(args);
        return (exitCode, output);
    }

    public static async Task<(int ExitCode, string Output, string StandardOutput)> RunWithStandardOutputAsync(params string[] args)
    {
        var originalError = Console.Error;
        var originalOutput = Console.Out;
        using var error = new StringWriter();
        using var output = new StringWriter();
        Console.SetError(error);
        Console.SetOut(output);
        try
        {
            int exitCode = await LipizzanerCommand.RunAsync(args);
            return (exitCode, error.ToString() + output.ToString(), output.ToString());
        }
        finally
        {
            Console.SetError(originalError);
            Console.SetOut(originalOutput);
        }
    }
}
