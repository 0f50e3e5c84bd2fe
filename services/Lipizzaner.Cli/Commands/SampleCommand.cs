using System.CommandLine;
using System.Globalization;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Imaging;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Lipizzaner.Cli.Commands;

/// <summary><c>lipizzaner sample</c>: writes synthetic images drawn from a saved generator mixture.</summary>
public static class SampleCommand
{
    private const int BatchSize = 1000;

    public static Command Create()
    {
        var mixtureOption = MixtureOption();
        var countOption = new Option<int>("--count", "-n")
        {
            Description = "Number of images to write (at least 1).",
            Required = true,
        };
        var outOption = new Option<DirectoryInfo>("--out")
        {
            Description = "Folder for the PNG images (created if missing).",
            Required = true,
        };
        var seedOption = SeedOption();
        var deviceOption = DeviceOption();

        var command = new Command("sample", "Write N images from a saved generator mixture, one PNG per image.")
        {
            mixtureOption, countOption, outOption, seedOption, deviceOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => Task.FromResult(Sample(
            parseResult.GetValue(mixtureOption)!,
            parseResult.GetValue(countOption),
            parseResult.GetValue(outOption)!,
            parseResult.GetValue(seedOption),
            parseResult.GetValue(deviceOption)!,
            logger,
            cancellationToken))));
        return command;
    }

    /// <summary>Creates the --mixture option of the commands that draw images from a saved mixture.</summary>
    internal static Option<DirectoryInfo> MixtureOption() => new("--mixture")
    {
        Description = "The mixture/ folder of a finished run (it contains mixture.json).",
        Required = true,
    };

    /// <summary>Creates the --seed option of <see cref="WriteImages"/>'s callers.</summary>
    internal static Option<int> SeedOption() => new("--seed")
    {
        Description = "Seed of the latent noise and of the generator assignment.",
        DefaultValueFactory = _ => 0,
    };

    /// <summary>Creates the --device option of <see cref="WriteImages"/>'s callers.</summary>
    internal static Option<string> DeviceOption() => new("--device")
    {
        Description = "Torch device: cpu, cuda or cuda:N.",
        DefaultValueFactory = _ => "cpu",
    };

    private static int Sample(
        DirectoryInfo mixture, int count, DirectoryInfo output, int seed, string device, ILogger logger, CancellationToken cancellationToken)
    {
        var written = WriteImages(mixture.FullName, count, output.FullName, seed, device, "sample-", cancellationToken);
        logger.LogInformation("Wrote {Count} images from the mixture of cell {Cell}, drawn from {Generators} of its generators, to {Directory}",
            count, written.MixtureCell, written.Files.Select(file => file.Cell).Distinct().Count(), output.FullName);
        return LipizzanerCommand.Success;
    }

    /// <summary>
    /// Writes <paramref name="count"/> images drawn from the mixture in <paramref name="mixtureDirectory"/>
    /// as 8-bit grayscale PNG files at the mixture's image side, named <paramref name="prefix"/> plus a
    /// six-digit index. Each image's generator is chosen in exact proportion to the weights, and the
    /// latent noise and the choice come from <paramref name="seed"/>.
    /// </summary>
    public static SampledImages WriteImages(
        string mixtureDirectory, int count, string outputDirectory, int seed, string device, string prefix, CancellationToken cancellationToken)
    {
        if (count < 1)
        {
            throw new ArgumentException($"--count {count} is invalid; pass the number of images to write, at least 1.");
        }

        TorchSetup.Configure(Math.Max(1, Environment.ProcessorCount));
        var torchDevice = torch.device(device);
        var (manifest, generators, _) = MixtureFolder.Read(mixtureDirectory, torchDevice);
        try
        {
            var weights = manifest.Generators.Select(member => member.Weight).ToArray();
            var random = new CellRandom((ulong)(uint)seed);
            var assignment = MixtureSampler.AssignGenerators(weights, count, MixtureSampling.ExactProportion, random);
            using var latentRandom = new torch.Generator((ulong)(uint)seed);
            Directory.CreateDirectory(outputDirectory);
            var files = new List<(string File, string Cell)>();
            for (int start = 0; start < count; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int length = Math.Min(BatchSize, count - start);
                using var scope = torch.NewDisposeScope();
                var latent = torch.randn([length, manifest.LatentSize], generator: latentRandom).to(torchDevice);
                var images = MixtureSampler.Generate(generators, assignment[start..(start + length)], latent).cpu();
                for (int i = 0; i < length; i++)
                {
                    string name = string.Create(CultureInfo.InvariantCulture, $"{prefix}{start + i:D6}.png");
                    SampleGrid.WriteSinglePng(Path.Combine(outputDirectory, name), images[i], manifest.ImageSide);
                    files.Add((name, manifest.Generators[assignment[start + i]].Cell));
                }
            }

            return new SampledImages(manifest.Cell, manifest.ImageSide, files);
        }
        finally
        {
            foreach (var generator in generators)
            {
                generator.Dispose();
            }
        }
    }
}

/// <summary>Images written from a mixture: the mixture's best cell, the image side, and each file with the cell of its generator.</summary>
public sealed record SampledImages(string MixtureCell, int ImageSide, IReadOnlyList<(string File, string Cell)> Files);
