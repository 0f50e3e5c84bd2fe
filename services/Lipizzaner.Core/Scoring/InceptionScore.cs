using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// Inception Score: exp(E_x KL(p(y|x) ‖ p(y))) over the class probabilities of a classifier, computed on
/// each of <see cref="DefaultSplits"/> consecutive splits of the samples, and reported as the mean and the
/// population standard deviation over the splits. It ranges
/// from 1 (every image gets the same prediction) to the number of classes; higher is better.
/// </summary>
public static class InceptionScore
{
    public const int DefaultSplits = 10;

    /// <summary>Computes the score of class probabilities (N, K), N ≥ <paramref name="splits"/>.</summary>
    public static (double Mean, double StandardDeviation) Compute(Tensor probabilities, int splits = DefaultSplits)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentOutOfRangeException.ThrowIfLessThan(splits, 1);
        long count = probabilities.shape[0];
        if (count < splits)
        {
            throw new ArgumentException($"The Inception Score over {splits} splits needs at least {splits} samples; got {count}.", nameof(probabilities));
        }

        using var scope = torch.NewDisposeScope();
        var p = probabilities.detach().cpu().to(ScalarType.Float64);
        var values = new double[splits];
        for (int k = 0; k < splits; k++)
        {
            long start = k * count / splits;
            long end = (k + 1) * count / splits;
            var part = p.narrow(0, start, end - start);
            var marginal = part.mean([0], keepdim: true);
            // 0 · log 0 is taken as 0, so a class with no probability adds nothing.
            var terms = part * (part.clamp_min(1e-300).log() - marginal.clamp_min(1e-300).log());
            double meanKl = terms.sum(1).mean().item<double>();
            values[k] = Math.Exp(meanKl);
        }

        double mean = values.Average();
        double variance = values.Sum(value => (value - mean) * (value - mean)) / splits;
        return (mean, Math.Sqrt(variance));
    }
}

/// <summary>Scores generated images by the Inception Score of a shared ONNX classifier; no real images are needed.</summary>
public sealed class InceptionScorer : IImageScorer
{
    private readonly OnnxClassifier _classifier;

    /// <param name="classifier">The classifier, shared and not owned.</param>
    public InceptionScorer(OnnxClassifier classifier)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
    }

    public ScoreKind Kind => ScoreKind.InceptionScore;

    public ScoreResult Score(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var (mean, deviation) = InceptionScore.Compute(_classifier.Probabilities(images));
        return new ScoreResult(mean, double.NaN, deviation);
    }

    public void Dispose()
    {
    }
}
