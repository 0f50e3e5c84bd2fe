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
        var mixtureOption = new Option<DirectoryInfo>("--mixture")
        {
            Description = "The mixture/ folder of a finished run (it contains mixture.json).",
            Required = true,
        };
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
        var seedOption = new Option<int>("--seed")
        {
            Description = "Seed of the latent noise and of the generator assignment.",
            DefaultValueFactory = _ => 0,
        };
        var deviceOption = new Option<string>("--device")
        {
            Description = "Torch device: cpu, cuda or cuda:N.",
            DefaultValueFactory = _ => "cpu",
        };

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

    private static int Sample(
        DirectoryInfo mixture, int count, DirectoryInfo output, int seed, string device, ILogger logger, CancellationToken cancellationToken)
    {
        if (count < 1)
        {
            throw new ArgumentException($"--count {count} is invalid; pass the number of images to write, at least 1.");
        }

        TorchSetup.Configure(Math.Max(1, Environment.ProcessorCount));
        var torchDevice = torch.device(device);
        var (manifest, generators, _) = MixtureFolder.Read(mixture.FullName, torchDevice);
        try
        {
            var weights = manifest.Generators.Select(member => member.Weight).ToArray();
            var random = new CellRandom((ulong)(uint)seed);
            var assignment = MixtureSampler.AssignGenerators(weights, count, MixtureSampling.ExactProportion, random);
            using var latentRandom = new torch.Generator((ulong)(uint)seed);
            Directory.CreateDirectory(output.FullName);
            for (int start = 0; start < count; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int length = Math.Min(BatchSize, count - start);
                using var scope = torch.NewDisposeScope();
                var latent = torch.randn([length, manifest.LatentSize], generator: latentRandom).to(torchDevice);
                var images = MixtureSampler.Generate(generators, assignment[start..(start + length)], latent).cpu();
                for (int i = 0; i < length; i++)
                {
                    string name = string.Create(CultureInfo.InvariantCulture, $"sample-{start + i:D6}.png");
                    SampleGrid.WriteSinglePng(Path.Combine(output.FullName, name), images[i], manifest.ImageSide);
                }
            }

            logger.LogInformation("Wrote {Count} images from the mixture of cell {Cell} ({Generators} generators) to {Directory}",
                count, manifest.Cell, generators.Count, output.FullName);
            return LipizzanerCommand.Success;
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
