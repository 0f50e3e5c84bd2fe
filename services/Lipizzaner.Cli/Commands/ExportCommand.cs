using System.CommandLine;
using System.Text.Json;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Interop;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Lipizzaner.Cli.Commands;

/// <summary><c>lipizzaner export</c>: writes a saved mixture's generators as PyTorch state dicts.</summary>
public static class ExportCommand
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static Command Create()
    {
        var mixtureOption = new Option<DirectoryInfo?>("--mixture")
        {
            Description = "The mixture/ folder of a finished run.",
        };
        var checkpointOption = new Option<FileInfo?>("--checkpoint")
        {
            Description = "A cell checkpoint (checkpoints/cell-X-Y/gen-N.ckpt) whose center generator and discriminator to export, instead of --mixture.",
        };
        var outOption = new Option<DirectoryInfo>("--out")
        {
            Description = "Folder for the .pt files (PyTorch zip format): generator-X-Y.pt and weights.json, or generator.pt and discriminator.pt.",
            Required = true,
        };
        var classifierOption = new Option<bool>("--with-classifier")
        {
            Description = "Also write the cached FID classifier as mnist-classifier.pt (keys conv1.*, conv2.*, fc1.*, fc2.*).",
        };

        var command = new Command(
            "export",
            "Write a saved mixture's generators, or a checkpoint's center, as PyTorch state dicts that torch.load reads.")
        {
            mixtureOption, checkpointOption, outOption, classifierOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, _) =>
        {
            var mixture = parseResult.GetValue(mixtureOption);
            var checkpoint = parseResult.GetValue(checkpointOption);
            var output = parseResult.GetValue(outOption)!;
            if ((mixture is null) == (checkpoint is null))
            {
                throw new ArgumentException("Pass either --mixture DIR or --checkpoint FILE, not both and not neither.");
            }

            if (Directory.Exists(output.FullName) && Directory.EnumerateFileSystemEntries(output.FullName).Any())
            {
                throw new ArgumentException($"Export folder {output.FullName} already exists and is not empty; choose a new --out folder.");
            }

            int result = mixture is not null
                ? Export(mixture, output, parseResult.GetValue(classifierOption), logger)
                : ExportCheckpoint(checkpoint!, output, logger);
            return Task.FromResult(result);
        }));
        return command;
    }

    /// <summary>Writes the center generator and discriminator of a cell checkpoint (after verifying its checksum).</summary>
    private static int ExportCheckpoint(FileInfo checkpoint, DirectoryInfo output, ILogger logger)
    {
        TorchSetup.Configure(1);
        using var state = CellState.FromBytes(CheckpointFile.ReadVerified(checkpoint.FullName), torch.CPU);
        Directory.CreateDirectory(output.FullName);
        PyTorchStateDict.Save(state.CenterGenerator.Network, Path.Combine(output.FullName, "generator.pt"));
        PyTorchStateDict.Save(state.CenterDiscriminator.Network, Path.Combine(output.FullName, "discriminator.pt"));
        logger.LogInformation("Wrote the generation-{Generation} center of cell {Cell} ({Network}) to {Directory}",
            state.Generation, state.CellIndex, state.CenterGenerator.Spec.Name, output.FullName);
        return LipizzanerCommand.Success;
    }

    private static int Export(DirectoryInfo mixture, DirectoryInfo output, bool withClassifier, ILogger logger)
    {
        TorchSetup.Configure(1);
        var (manifest, generators, _) = MixtureFolder.Read(mixture.FullName, torch.CPU);
        try
        {
            Directory.CreateDirectory(output.FullName);
            var weights = new Dictionary<string, double>();
            for (int i = 0; i < generators.Count; i++)
            {
                string file = $"generator-{manifest.Generators[i].Cell}.pt";
                PyTorchStateDict.Save(generators[i], Path.Combine(output.FullName, file));
                weights[file] = manifest.Generators[i].Weight;
            }

            AtomicFile.WriteAllText(
                Path.Combine(output.FullName, "weights.json"),
                JsonSerializer.Serialize(new { network = manifest.Network, latent_size = manifest.LatentSize, weights }, IndentedJson));

            if (withClassifier)
            {
                var cached = ClassifierStore.TryLoad(ClassifierStore.DefaultDirectory)
                    ?? throw new FileNotFoundException(
                        $"No cached classifier in {ClassifierStore.DefaultDirectory}; run 'lipizzaner classifier train' first.");
                using var classifier = cached.Classifier;
                PyTorchStateDict.Save(classifier, Path.Combine(output.FullName, "mnist-classifier.pt"));
            }

            logger.LogInformation("Wrote {Count} {Network} generators as PyTorch state dicts to {Directory}",
                generators.Count, manifest.Network, output.FullName);
            return LipizzanerCommand.Success;
        }
        finally
        {
            generators.ForEach(generator => generator.Dispose());
        }
    }
}
