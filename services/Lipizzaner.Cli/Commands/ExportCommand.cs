using System.CommandLine;
using System.Text.Json;
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
        var mixtureOption = new Option<DirectoryInfo>("--mixture")
        {
            Description = "The mixture/ folder of a finished run.",
            Required = true,
        };
        var outOption = new Option<DirectoryInfo>("--out")
        {
            Description = "Folder for generator-X-Y.pt files (PyTorch zip format) and weights.json.",
            Required = true,
        };
        var classifierOption = new Option<bool>("--with-classifier")
        {
            Description = "Also write the cached FID classifier as mnist-classifier.pt (keys conv1.*, conv2.*, fc1.*, fc2.*).",
        };

        var command = new Command(
            "export",
            "Write a saved mixture's generators as PyTorch state dicts that torch.load reads, with their weights in weights.json.")
        {
            mixtureOption, outOption, classifierOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, _) => Task.FromResult(Export(
            parseResult.GetValue(mixtureOption)!, parseResult.GetValue(outOption)!, parseResult.GetValue(classifierOption), logger))));
        return command;
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
