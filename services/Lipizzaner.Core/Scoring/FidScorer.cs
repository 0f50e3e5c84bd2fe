using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>FID and class-histogram TVD of a set of images.</summary>
public sealed record ScoreResult(double Fid, double Tvd);

/// <summary>
/// Scores generated images against fixed real statistics with the MNIST classifier's logits.
/// Each instance owns its own classifier copy, so cells can score in parallel without sharing
/// module state. Images of another size are resized to 28×28 first.
/// </summary>
public sealed class FidScorer : IDisposable
{
    private readonly MnistClassifier _classifier;

    public FidScorer(MnistClassifier template, FeatureStatistics realStatistics)
    {
        ArgumentNullException.ThrowIfNull(template);
        RealStatistics = realStatistics ?? throw new ArgumentNullException(nameof(realStatistics));
        _classifier = ClassifierStore.Copy(template);
        _classifier.eval();
    }

    public FeatureStatistics RealStatistics { get; }

    /// <summary>Computes the statistics of real or generated images (N, side·side) in [-1, 1].</summary>
    public static FeatureStatistics Statistics(MnistClassifier classifier, Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var resized = ImageResize.ToSide(images, MnistClassifier.ImageSide);
        return FeatureStatistics.FromFeatures(classifier.Logits(resized));
    }

    public ScoreResult Score(Tensor images)
    {
        var statistics = Statistics(_classifier, images);
        return new ScoreResult(Fid.Distance(RealStatistics, statistics), Fid.TotalVariation(RealStatistics, statistics));
    }

    public void Dispose() => _classifier.Dispose();
}
