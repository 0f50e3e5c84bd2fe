using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// The data a run reads before training: the MNIST training set or, for <c>dataloader.dataset_name: image_folder</c>,
/// the preprocessed and oversampled images of a folder; and, when scoring is on, the model that the score
/// type needs: the MNIST FID classifier (the cached one, trained on first use), the ResNet18 feature
/// model, or an ONNX classifier for the Inception Score.
/// </summary>
public sealed class RunResources : IDisposable
{
    private readonly bool _ownsResources;
    private readonly MnistDataset? _train;
    private readonly torch.Tensor? _folderImages;
    private readonly torch.Tensor? _folderOriginals;

    private RunResources(MnistDataset train, MnistClassifier? classifier, ClassifierInfo? classifierInfo, bool ownsResources = true)
    {
        _train = train;
        Classifier = classifier;
        ClassifierInfo = classifierInfo;
        _ownsResources = ownsResources;
    }

    private RunResources(torch.Tensor folderImages, torch.Tensor folderOriginals, int side)
    {
        _folderImages = folderImages;
        _folderOriginals = folderOriginals;
        FolderImageSide = side;
        _ownsResources = true;
    }

    /// <summary>The MNIST training set. Code that serves both kinds of run reads <see cref="ScoringImages"/> or <see cref="CreateTrainingData"/>.</summary>
    /// <exception cref="InvalidOperationException">The run trains on an image folder.</exception>
    public MnistDataset Train => _train ?? throw new InvalidOperationException(
        "This run trains on an image folder, which has no MNIST training set; read ScoringImages for the real images that scores compare with.");

    /// <summary>Whether the run trains on an image folder instead of MNIST.</summary>
    public bool IsImageFolder => _folderImages is not null;

    /// <summary>Image side of the image-folder training set; 0 for MNIST.</summary>
    public int FolderImageSide { get; }

    public MnistClassifier? Classifier { get; }

    public ClassifierInfo? ClassifierInfo { get; }

    /// <summary>The ResNet18 feature model, loaded when the score type is <c>kid</c> or <c>fid_resnet</c>.</summary>
    public ResNet18Features? Features { get; private set; }

    /// <summary>The ONNX classifier, loaded when the score type is <c>inception_score</c>.</summary>
    public OnnxClassifier? OnnxClassifier { get; private set; }

    /// <summary>
    /// The real images (N, side·side) that scores compare with: the MNIST training images, or the
    /// images of the folder as read, before any oversampling, because SMOTE and Gaussian copies are not
    /// real samples.
    /// </summary>
    public torch.Tensor ScoringImages => _folderOriginals ?? Train.Images;

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
        if (config.DataLoader.DatasetName == "image_folder")
        {
            var folder = LoadImageFolder(config, ImageCache.DefaultDirectory, logger);
            return LoadScoreModels(folder, config, logger);
        }

        if (config.DataLoader.DatasetName != "mnist")
        {
            throw new NotSupportedException(
                $"dataloader.dataset_name '{config.DataLoader.DatasetName}' is not supported by the embedded runner; "
                + "use 'mnist' or 'image_folder'.");
        }

        string dataDirectory = await ResolveMnistDirectoryAsync(config.DataLoader.DataDir, logger, cancellationToken).ConfigureAwait(false);
        var train = MnistDataset.Load(dataDirectory, MnistSplit.Train);
        if (!config.Trainer.Params.Score.Enabled || config.Trainer.Params.Score.Type != ScoreKind.Fid)
        {
            return LoadScoreModels(new RunResources(train, null, null), config, logger);
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

    /// <summary>
    /// Loads <c>dataloader.path</c> at the network's image side (cached in <paramref name="cacheDirectory"/>,
    /// or not at all when it is null) and applies the configured Gaussian and SMOTE oversampling, seeded
    /// from <c>general.seed</c>.
    /// </summary>
    public static RunResources LoadImageFolder(LipizzanerConfig config, string? cacheDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        var data = config.DataLoader;
        int side = data.ImageSize == 0 ? NetworkFactory.Spec(config.Network.Name).ImageSide : data.ImageSize;
        var policy = data.ResizePolicy == ImageResizePolicy.Pad ? ResizePolicy.Pad : ResizePolicy.CenterCrop;
        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(data.Path, side, policy, data.Strict, cacheDirectory), logger);
        return FromImageFolder(dataset, config, logger);
    }

    /// <summary>
    /// Builds resources from an image folder that is already loaded: the configured oversampling is applied
    /// to a copy of its images, so <paramref name="dataset"/> stays unchanged and owned by the caller.
    /// </summary>
    public static RunResources FromImageFolder(ImageFolderDataset dataset, LipizzanerConfig config, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(config);
        var originals = dataset.ToLabelledImages();
        var images = ImageOversampling.Apply(originals, config.DataLoader, config.General.Seed, logger);
        var tensor = torch.tensor(images.Pixels, [images.Count, images.Dimensions], torch.float32).DetachFromDisposeScope();
        var originalTensor = torch.tensor(originals.Pixels, [originals.Count, originals.Dimensions], torch.float32).DetachFromDisposeScope();
        return new RunResources(tensor, originalTensor, dataset.Side);
    }

    /// <summary>
    /// Loads into <paramref name="resources"/> the model that a <c>kid</c>, <c>fid_resnet</c> or
    /// <c>inception_score</c> run scores with, and returns it; disposes it when loading fails.
    /// </summary>
    public static RunResources LoadScoreModels(RunResources resources, LipizzanerConfig config, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(config);
        var score = config.Trainer.Params.Score;
        if (!score.Enabled)
        {
            return resources;
        }

        try
        {
            if (ScoreKinds.UsesResNet18(score.Type))
            {
                resources.Features = ResNet18Features.Load(config.Runtime.TorchThreads);
                logger.LogInformation("Scoring by {Score} on ResNet18 ImageNet features ({Features} per image)",
                    ScoreKinds.Label(score.Type), ResNet18Features.FeatureCount);
            }
            else if (score.Type == ScoreKind.InceptionScore)
            {
                resources.OnnxClassifier = OnnxClassifier.Load(score.ClassifierOnnx, config.Runtime.TorchThreads);
                logger.LogInformation("Scoring by Inception Score with the ONNX classifier {File}", score.ClassifierOnnx);
            }

            return resources;
        }
        catch
        {
            resources.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns the training images on <paramref name="device"/> at <paramref name="networkSide"/>: MNIST
    /// resized when its side differs, an image folder as loaded (its side already is the network's).
    /// </summary>
    public TrainingData CreateTrainingData(int networkSide, torch.Device device)
    {
        if (_folderImages is null)
        {
            return TrainingData.FromMnist(Train, networkSide, device);
        }

        if (FolderImageSide != networkSide)
        {
            throw new InvalidOperationException(
                $"The image folder was loaded at {FolderImageSide}x{FolderImageSide}, but the network takes "
                + $"{networkSide}x{networkSide}; set dataloader.image_size to 0 or {networkSide}.");
        }

        using var scope = torch.NewDisposeScope();
        var images = _folderImages.clone().to(device).contiguous();
        return new TrainingData(images.DetachFromDisposeScope(), networkSide);
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

        _train?.Dispose();
        _folderImages?.Dispose();
        _folderOriginals?.Dispose();
        Classifier?.Dispose();
        Features?.Dispose();
        OnnxClassifier?.Dispose();
    }
}
