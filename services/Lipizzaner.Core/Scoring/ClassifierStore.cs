using System.Text.Json;
using System.Text.Json.Serialization;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>Accuracy of the classifier on the MNIST test set, stored beside its weights.</summary>
public sealed record ClassifierInfo(
    [property: JsonPropertyName("test_accuracy")] double TestAccuracy,
    [property: JsonPropertyName("correct")] int Correct,
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("epochs")] int Epochs,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("weights_sha256")] string WeightsSha256);

/// <summary>Options for training the FID classifier.</summary>
public sealed record ClassifierTrainingOptions(int Epochs = 3, int BatchSize = 64, double LearningRate = 0.001, int Seed = 1);

/// <summary>
/// Trains, evaluates, caches and loads the MNIST classifier used for FID. The cache contains
/// <c>mnist-classifier.bin</c> (a checksummed state dict) and <c>mnist-classifier.json</c>
/// (<see cref="ClassifierInfo"/>).
/// </summary>
public static class ClassifierStore
{
    public const string WeightsFileName = "mnist-classifier.bin";
    public const string InfoFileName = "mnist-classifier.json";

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static string DefaultDirectory => Path.Combine(LipizzanerPaths.DefaultCacheDirectory, "classifier");

    /// <summary>Returns a copy of <paramref name="source"/> with its own tensors.</summary>
    public static MnistClassifier Copy(MnistClassifier source)
    {
        var copy = new MnistClassifier();
        StateDictFile.LoadBytes(copy, StateDictFile.ToBytes(source));
        copy.eval();
        return copy;
    }

    /// <summary>Loads the cached classifier from <paramref name="directory"/>, or returns null when none is cached.</summary>
    public static (MnistClassifier Classifier, ClassifierInfo Info)? TryLoad(string directory)
    {
        string weights = Path.Combine(directory, WeightsFileName);
        string info = Path.Combine(directory, InfoFileName);
        if (!File.Exists(weights) || !File.Exists(info))
        {
            return null;
        }

        var classifier = new MnistClassifier();
        StateDictFile.Load(classifier, weights);
        classifier.eval();
        var metadata = JsonSerializer.Deserialize<ClassifierInfo>(File.ReadAllText(info))
            ?? throw new InvalidDataException($"{info} is empty; delete it and run 'lipizzaner classifier train'.");
        return (classifier, metadata);
    }

    /// <summary>Loads a classifier from a PyTorch state dict with the original's keys and measures its test accuracy.</summary>
    public static (MnistClassifier Classifier, ClassifierInfo Info) LoadPyTorch(string path, MnistDataset test)
    {
        var classifier = new MnistClassifier();
        try
        {
            Interop.PyTorchStateDict.LoadInto(classifier, path);
            classifier.eval();
            var (correct, total) = Evaluate(classifier, test);
            return (classifier, new ClassifierInfo((double)correct / total, correct, total, Epochs: 0, Seed: 0, AtomicFile.Sha256HexOfFile(path)));
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>Returns the cached classifier, training and caching one first when the cache is empty.</summary>
    public static (MnistClassifier Classifier, ClassifierInfo Info) LoadOrTrain(
        string directory, MnistDataset train, MnistDataset test, ClassifierTrainingOptions options, ILogger logger)
    {
        var cached = TryLoad(directory);
        if (cached is { } found)
        {
            return found;
        }

        logger.LogInformation("No MNIST classifier in {Directory}; training one ({Epochs} epochs)", directory, options.Epochs);
        var trained = Train(train, test, options, logger);
        Save(directory, trained.Classifier, trained.Info);
        return trained;
    }

    public static void Save(string directory, MnistClassifier classifier, ClassifierInfo info)
    {
        byte[] weights = StateDictFile.ToBytes(classifier);
        var withHash = info with { WeightsSha256 = AtomicFile.Sha256Hex(weights) };
        AtomicFile.WriteAllBytes(Path.Combine(directory, WeightsFileName), weights);
        AtomicFile.WriteAllText(
            Path.Combine(directory, InfoFileName),
            JsonSerializer.Serialize(withHash, IndentedJson));
    }

    /// <summary>Trains a classifier on the training images in [-1, 1] with Adam and cross-entropy, then evaluates it on the test set.</summary>
    public static (MnistClassifier Classifier, ClassifierInfo Info) Train(
        MnistDataset train, MnistDataset test, ClassifierTrainingOptions options, ILogger logger)
    {
        torch.manual_seed(options.Seed);
        var random = new torch.Generator((ulong)options.Seed);
        var classifier = new MnistClassifier();
        classifier.train();
        using var optimizer = torch.optim.Adam(classifier.parameters(), options.LearningRate);
        var labels = torch.tensor(train.Labels.Select(label => (long)label).ToArray());
        long count = train.Count;

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            double lossSum = 0;
            int batches = 0;
            using var order = torch.randperm(count, generator: random);
            for (long start = 0; start + options.BatchSize <= count; start += options.BatchSize)
            {
                using var scope = torch.NewDisposeScope();
                var index = order.narrow(0, start, options.BatchSize);
                var logits = classifier.call(train.Images.index_select(0, index));
                var loss = nn.functional.cross_entropy(logits, labels.index_select(0, index));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
            }

            logger.LogInformation("Classifier epoch {Epoch}/{Epochs}: mean loss {Loss:F4}", epoch, options.Epochs, lossSum / batches);
        }

        labels.Dispose();
        classifier.eval();
        var (correct, total) = Evaluate(classifier, test);
        var info = new ClassifierInfo((double)correct / total, correct, total, options.Epochs, options.Seed, WeightsSha256: "");
        logger.LogInformation("Classifier test accuracy {Accuracy:P2} ({Correct}/{Total})", info.TestAccuracy, correct, total);
        return (classifier, info);
    }

    /// <summary>Returns how many test images the classifier labels correctly (argmax of the logits).</summary>
    public static (int Correct, int Total) Evaluate(MnistClassifier classifier, MnistDataset test)
    {
        using var scope = torch.NewDisposeScope();
        var predicted = classifier.Logits(test.Images).argmax(1);
        var labels = torch.tensor(test.Labels.Select(label => (long)label).ToArray());
        int correct = (int)predicted.eq(labels).sum().item<long>();
        return (correct, test.Count);
    }
}
