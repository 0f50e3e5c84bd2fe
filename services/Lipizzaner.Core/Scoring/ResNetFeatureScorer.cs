using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>KID settings: subsets per estimate and the subset size (capped at the smaller set).</summary>
public sealed record KidSettings(int Subsets = Kid.DefaultSubsets, int SubsetSize = Kid.DefaultSubsetSize, ulong Seed = 0);

/// <summary>
/// KID or FID of generated images against fixed real images, both on ResNet18 ImageNet features. The
/// feature extractor is shared and not owned; the real features are computed once, by the caller.
/// </summary>
public sealed class ResNetFeatureScorer : IImageScorer
{
    private readonly ResNet18Features _features;
    private readonly Tensor _realFeatures;
    private readonly FeatureStatistics? _realStatistics;
    private readonly KidSettings _kid;

    /// <summary>Creates a scorer against <paramref name="realFeatures"/> (N, 512), of which it keeps its own copy.</summary>
    /// <exception cref="ArgumentException">FID with at most 512 real samples.</exception>
    public ResNetFeatureScorer(ScoreKind kind, ResNet18Features features, Tensor realFeatures, KidSettings? kid = null)
    {
        if (!ScoreKinds.UsesResNet18(kind))
        {
            throw new ArgumentException($"{ScoreKinds.ConfigName(kind)} does not score ResNet18 features.", nameof(kind));
        }

        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(realFeatures);
        Kind = kind;
        _features = features;
        _kid = kid ?? new KidSettings();
        _realFeatures = realFeatures.detach().cpu().clone().DetachFromDisposeScope();
        if (kind == ScoreKind.ResNetFid)
        {
            RequireMoreSamplesThanFeatures(realFeatures.shape[0], "real");
            _realStatistics = FeatureStatistics.FromFeatures(_realFeatures);
        }
    }

    public ScoreKind Kind { get; }

    /// <summary>Number of real samples the score compares with.</summary>
    public long RealCount => _realFeatures.shape[0];

    public ScoreResult Score(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var fake = _features.Extract(images);
        return ScoreFeatures(fake);
    }

    /// <summary>Scores features (N, 512) that were already extracted from generated images.</summary>
    public ScoreResult ScoreFeatures(Tensor fakeFeatures)
    {
        ArgumentNullException.ThrowIfNull(fakeFeatures);
        if (Kind == ScoreKind.Kid)
        {
            var kid = Kid.Compute(_realFeatures, fakeFeatures, _kid.Subsets, _kid.SubsetSize, _kid.Seed);
            return new ScoreResult(kid.Mean, double.NaN, kid.StandardDeviation);
        }

        RequireMoreSamplesThanFeatures(fakeFeatures.shape[0], "generated");
        var fake = FeatureStatistics.FromFeatures(fakeFeatures);
        return new ScoreResult(Fid.Distance(_realStatistics!, fake), double.NaN);
    }

    /// <summary>
    /// Rejects a set with at most 512 samples: its covariance over 512 features has rank at most N − 1,
    /// so it is singular, and the FID would measure the sample size more than the images.
    /// </summary>
    public static void RequireMoreSamplesThanFeatures(long count, string setName)
    {
        if (count <= ResNet18Features.FeatureCount)
        {
            throw new ArgumentException(
                $"FID on ResNet18 features needs more than {ResNet18Features.FeatureCount} samples per set, one more than the "
                + $"feature count, but the {setName} set has {count}. Use the KID instead (trainer.params.score.type: kid, "
                + "or --type kid), which is defined for small sets, or use more samples.");
        }
    }

    public void Dispose() => _realFeatures.Dispose();
}
