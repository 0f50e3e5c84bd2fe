using System.CommandLine;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary><c>lipizzaner classifier train</c>: trains and caches the MNIST classifier whose logits are the FID features.</summary>
public static class ClassifierCommand
{
    public static Command Create()
    {
        var epochsOption = new Option<int>("--epochs")
        {
            Description = "Passes over the 60,000 training images (at least 1).",
            DefaultValueFactory = _ => new ClassifierTrainingOptions().Epochs,
        };
        var seedOption = new Option<int>("--seed")
        {
            Description = "Seed of the initial weights, the shuffling and dropout.",
            DefaultValueFactory = _ => new ClassifierTrainingOptions().Seed,
        };
        var dataOption = new Option<DirectoryInfo?>("--data-dir")
        {
            Description = "Folder with the four MNIST IDX files; default: the verified download cache.",
        };
        var outputOption = new Option<DirectoryInfo?>("--output", "-o")
        {
            Description = "Folder to store the classifier in; default: the user cache, where 'train' looks for it.",
        };

        var train = new Command("train", "Train the MNIST classifier, print its test accuracy and store it (replacing a cached one).")
        {
            epochsOption, seedOption, dataOption, outputOption,
        };
        train.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => TrainAsync(
            parseResult.GetValue(epochsOption),
            parseResult.GetValue(seedOption),
            parseResult.GetValue(dataOption),
            parseResult.GetValue(outputOption),
            logger,
            cancellationToken)));

        var classifierOption = new Option<FileInfo?>("--classifier")
        {
            Description = "PyTorch state dict of a classifier with the original architecture (for example mnist_cnn.pkl); default: the cached one.",
        };
        var evaluateDataOption = new Option<DirectoryInfo?>("--data-dir")
        {
            Description = "Folder with the four MNIST IDX files; default: the verified download cache.",
        };
        var jsonOption = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var evaluate = new Command("evaluate", "Print the classifier's accuracy on the 10,000 MNIST test images (inputs scaled to [-1, 1]).")
        {
            classifierOption, evaluateDataOption, jsonOption,
        };
        evaluate.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => EvaluateAsync(
            parseResult.GetValue(classifierOption),
            parseResult.GetValue(evaluateDataOption),
            parseResult.GetValue(jsonOption),
            logger,
            cancellationToken)));

        return new Command("classifier", "Manage the MNIST classifier used for FID.") { train, evaluate };
    }

    private static async Task<int> EvaluateAsync(
        FileInfo? classifierFile, DirectoryInfo? dataDirectory, bool json, ILogger logger, CancellationToken cancellationToken)
    {
        TorchSetup.Configure(Math.Max(1, Environment.ProcessorCount));
        string directory = await RunResources.ResolveMnistDirectoryAsync(dataDirectory?.FullName, logger, cancellationToken).ConfigureAwait(false);
        MnistClassifier classifier;
        if (classifierFile is not null)
        {
            classifier = ScoringInputs.LoadPyTorchClassifier(classifierFile.FullName);
        }
        else
        {
            classifier = ClassifierStore.TryLoad(ClassifierStore.DefaultDirectory)?.Classifier
                ?? throw new FileNotFoundException(
                    $"No cached classifier in {ClassifierStore.DefaultDirectory}; run 'lipizzaner classifier train' or pass --classifier FILE.");
        }

        using (classifier)
        {
            using var test = MnistDataset.Load(directory, MnistSplit.Test);
            var (correct, total) = ClassifierStore.Evaluate(classifier, test);
            double accuracy = (double)correct / total;
            Console.WriteLine(json
                ? System.Text.Json.JsonSerializer.Serialize(new { accuracy, correct, total })
                : $"Test accuracy {accuracy:P2} ({correct}/{total})");
        }

        return LipizzanerCommand.Success;
    }

    private static async Task<int> TrainAsync(
        int epochs, int seed, DirectoryInfo? dataDirectory, DirectoryInfo? output, ILogger logger, CancellationToken cancellationToken)
    {
        if (epochs < 1)
        {
            throw new ArgumentException($"--epochs {epochs} is invalid; pass at least 1.");
        }

        TorchSetup.Configure(Math.Max(1, Environment.ProcessorCount));
        string directory = await RunResources.ResolveMnistDirectoryAsync(dataDirectory?.FullName, logger, cancellationToken).ConfigureAwait(false);
        using var train = MnistDataset.Load(directory, MnistSplit.Train);
        using var test = MnistDataset.Load(directory, MnistSplit.Test);
        var (classifier, info) = ClassifierStore.Train(train, test, new ClassifierTrainingOptions(Epochs: epochs, Seed: seed), logger);
        using (classifier)
        {
            string target = output?.FullName ?? ClassifierStore.DefaultDirectory;
            ClassifierStore.Save(target, classifier, info);
            Console.WriteLine($"Test accuracy {info.TestAccuracy:P2} ({info.Correct}/{info.Total}); stored in {target}");
        }

        return LipizzanerCommand.Success;
    }
}
