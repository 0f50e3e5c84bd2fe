using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// What a run reads before training: the MNIST training set and, when scoring is on, the FID
/// classifier (the cached one, trained on first use).
/// </summary>
public sealed class RunResources : IDisposable
{
    private readonly bool _ownsResources;

    private RunResources(MnistDataset train, MnistClassifier? classifier, ClassifierInfo? classifierInfo, bool ownsResources = true)
    {
        Train = train;
        Classifier = classifier;
        ClassifierInfo = classifierInfo;
        _ownsResources = ownsResources;
    }

    public MnistDataset Train { get; }

    public MnistClassifier? Classifier { get; }

    public ClassifierInfo? ClassifierInfo { get; }

    /// <summary>
    /// Loads MNIST from <c>dataloader.data_dir</c>, or from the verified download cache when it is
    /// empty, and the classifier from <paramref name="classifierDirectory"/> (default: the cache).
    /// </summary>
    public static async Task<RunResources> LoadAsync(
        LipizzanerConfig config, string? classifierDirectory, ILogger logger, CancellationToken cancellationToken) =>
        await LoadAsync(config, classifierDirectory, pytorchClassifier: null, logger, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Loads as <see cref="LoadAsync(LipizzanerConfig, string?, ILogger, CancellationToken)"/> does, but takes the
    /// classifier from the PyTorch state dict <paramref name="pytorchClassifier"/> when given (for example the
    /// original Lipizzaner's <c>mnist_cnn.pkl</c>), evaluating it on the test set first.
    /// </summary>
    public static async Task<RunResources> LoadAsync(
        LipizzanerConfig config, string? classifierDirectory, string? pytorchClassifier, ILogger logger, CancellationToken cancellationToken)
    {
        if (config.DataLoader.DatasetName != "mnist")
        {
            throw new NotSupportedException(
                $"dataloader.dataset_name '{config.DataLoader.DatasetName}' is not supported by the embedded runner; use 'mnist'.");
        }

        string dataDirectory = await ResolveMnistDirectoryAsync(config.DataLoader.DataDir, logger, cancellationToken).ConfigureAwait(false);
        var train = MnistDataset.Load(dataDirectory, MnistSplit.Train);
        if (!config.Trainer.Params.Score.Enabled)
        {
            return new RunResources(train, null, null);
        }

        try
        {
            using var test = MnistDataset.Load(dataDirectory, MnistSplit.Test);
            var (classifier, info) = pytorchClassifier is null
                ? ClassifierStore.LoadOrTrain(classifierDirectory ?? ClassifierStore.DefaultDirectory, train, test, new ClassifierTrainingOptions(), logger)
                : ClassifierStore.LoadPyTorch(pytorchClassifier, test);
            logger.LogInformation(
                "FID classifier: test accuracy {Accuracy:P2} ({Correct}/{Total})", info.TestAccuracy, info.Correct, info.Total);
            return new RunResources(train, classifier, info);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>Wraps data and a classifier that are already loaded; with <paramref name="ownsResources"/> false, disposing leaves them alive.</summary>
    public static RunResources FromLoaded(
        MnistDataset train, MnistClassifier? classifier, ClassifierInfo? classifierInfo, bool ownsResources) =>
        new(train, classifier, classifierInfo, ownsResources);

    /// <summary>Returns <paramref name="dataDirectory"/> when given (warning about unpublished files), else the download cache.</summary>
    public static async Task<string> ResolveMnistDirectoryAsync(string? dataDirectory, ILogger logger, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(dataDirectory))
        {
            return await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, logger, cancellationToken).ConfigureAwait(false);
        }

        if (!Directory.Exists(dataDirectory))
        {
            throw new DirectoryNotFoundException(
                $"MNIST folder '{dataDirectory}' does not exist. Pass a folder with the four IDX files, or leave the data folder unset to download them.");
        }

        foreach (var check in MnistDownloader.VerifyChecksums(dataDirectory).Where(check => !check.Matches))
        {
            logger.LogWarning("{File} in {Directory} differs from the published MNIST file; results are not comparable with published figures", check.FileName, dataDirectory);
        }

        return dataDirectory;
    }

    public void Dispose()
    {
        if (!_ownsResources)
        {
            return;
        }

        Train.Dispose();
        Classifier?.Dispose();
    }
}
