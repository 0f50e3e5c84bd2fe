using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary>Options shared by the commands that score generators.</summary>
public sealed class ScoringOptions
{
    public Option<FileInfo[]> PyTorchGenerators { get; } = new("--pytorch-generator")
    {
        Description = "PyTorch state-dict file of a generator (repeatable, or several after one flag); needs --network.",
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<DirectoryInfo?> Mixture { get; } = new("--mixture")
    {
        Description = "A saved mixture folder (the mixture/ of a run), instead of --pytorch-generator.",
    };

    public Option<string?> Network { get; } = new("--network")
    {
        Description = "Architecture of the PyTorch generators: 4lp, 5lp, cnn28, cnn64 or cnn128.",
    };

    public Option<string?> Weights { get; } = new("--weights")
    {
        Description = "Comma-separated mixture weights, one per generator (normalised); default: uniform, or the mixture's own.",
    };

    public Option<int> Samples { get; } = new("--samples")
    {
        Description = "Generated samples, scored against the first as many MNIST training images.",
        DefaultValueFactory = _ => 10000,
    };

    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Latent noise: torch.manual_seed(SEED) then randn(samples, latent), the same stream as PyTorch.",
        DefaultValueFactory = _ => 0,
    };

    public Option<FileInfo?> Latents { get; } = new("--latents")
    {
        Description = "Raw little-endian float32 latent vectors (samples × latent, row-major), instead of --seed.",
    };

    public Option<FileInfo?> Classifier { get; } = new("--classifier")
    {
        Description = "PyTorch state dict of the MNIST classifier for the FID features (for example the original mnist_cnn.pkl); default: the cached one.",
    };

    public Option<bool> DropRemainder { get; } = new("--drop-remainder")
    {
        Description = "Use only ⌊N/64⌋·64 samples per set, as the original Lipizzaner's FID did; default: all samples.",
    };

    public Option<DirectoryInfo?> DataDirectory { get; } = new("--data-dir")
    {
        Description = "Folder with the four MNIST IDX files; default: the verified download cache.",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON object instead of text.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(PyTorchGenerators);
        command.Options.Add(Mixture);
        command.Options.Add(Network);
        command.Options.Add(Weights);
        command.Options.Add(Samples);
        command.Options.Add(Seed);
        command.Options.Add(Latents);
        command.Options.Add(Classifier);
        command.Options.Add(DropRemainder);
        command.Options.Add(DataDirectory);
        command.Options.Add(Json);
    }
}

/// <summary><c>lipizzaner score</c>: FID and TVD of one generator or a weighted mixture against MNIST training images.</summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var options = new ScoringOptions();
        var command = new Command(
            "score",
            "Score imported PyTorch generators or a saved mixture: FID on MNIST classifier logits and the TVD of predicted classes, against the first N training images.");
        options.AddTo(command);
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => ScoreAsync(parseResult, options, logger, cancellationToken)));
        return command;
    }

    private static async Task<int> ScoreAsync(ParseResult parseResult, ScoringOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        using var session = await ScoringSession.OpenAsync(parseResult, options, logger, cancellationToken).ConfigureAwait(false);
        bool dropRemainder = parseResult.GetValue(options.DropRemainder);
        var generators = session.Generators;
        var real = session.Real;
        var fake = session.Statistics(generators.Weights);
        double fid = Fid.Distance(real, fake);
        double tvd = Fid.TotalVariation(real, fake);

        if (parseResult.GetValue(options.Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["fid"] = fid,
                ["tvd"] = tvd,
                ["samples"] = fake.SampleCount,
                ["drop_remainder"] = dropRemainder,
                ["classifier"] = session.ClassifierName,
                ["generators"] = generators.Names.Zip(generators.Weights).ToDictionary(pair => pair.First, pair => pair.Second),
            }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FID {fid:F6}  TVD {tvd:F6}  ({fake.SampleCount} generated samples vs the first {real.SampleCount} training images; generators: {string.Join(", ", generators.Names.Zip(generators.Weights, (name, weight) => $"{name} {weight:F3}"))}; classifier: {session.ClassifierName})"));
        }

        return LipizzanerCommand.Success;
    }
}
