using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// Scores generated images against fixed real statistics with the MNIST classifier's logits.
/// Each instance owns its own classifier copy, so cells can score in parallel without sharing
/// module state. Images of another size are resized to 28×28 first.
/// </summary>
public sealed class FidScorer : IImageScorer
{
    /// <summary>Batch size of the original Lipizzaner's FID feature loop.</summary>
    public const int OriginalBatchSize = 64;

    private readonly MnistClassifier _classifier;

    public FidScorer(MnistClassifier template, FeatureStatistics realStatistics)
    {
        ArgumentNullException.ThrowIfNull(template);
        RealStatistics = realStatistics ?? throw new ArgumentNullException(nameof(realStatistics));
        _classifier = ClassifierStore.Copy(template);
        _classifier.eval();
    }

    public FeatureStatistics RealStatistics { get; }

    public ScoreKind Kind => ScoreKind.Fid;

    /// <summary>
    /// Computes the statistics of real or generated images (N, side·side) in [-1, 1]. With
    /// <paramref name="dropRemainder"/>, only the first ⌊N / 64⌋ · 64 images count, as in the original
    /// Lipizzaner, which computed features in batches of 64 and skipped the incomplete last batch.
    /// </summary>
    public static FeatureStatistics Statistics(MnistClassifier classifier, Tensor images, bool dropRemainder = false)
    {
        using var scope = torch.NewDisposeScope();
        long count = dropRemainder ? images.shape[0] / OriginalBatchSize * OriginalBatchSize : images.shape[0];
        if (count < MnistClassifier.FeatureCount)
        {
            throw new ArgumentException(dropRemainder
                ? $"FID needs at least {MnistClassifier.FeatureCount} samples, but dropping the remainder of batches of {OriginalBatchSize} leaves {count} of {images.shape[0]}. Use at least {OriginalBatchSize} samples, or all samples."
                : $"FID needs at least {MnistClassifier.FeatureCount} samples (one per classifier logit); got {count}.");
        }

        // The classifier stays on the CPU; generated images may come from a GPU.
        // NOTE: the GPU path of training and scoring has not been run on a GPU yet.
        var resized = ImageResize.ToSide(images.narrow(0, 0, count).cpu(), MnistClassifier.ImageSide);
        return FeatureStatistics.FromFeatures(classifier.Logits(resized));
    }

    public ScoreResult Score(Tensor images)
    {
        var statistics = Statistics(_classifier, images);
        return new ScoreResult(Fid.Distance(RealStatistics, statistics), Fid.TotalVariation(RealStatistics, statistics));
    }

    public void Dispose() => _classifier.Dispose();
}
