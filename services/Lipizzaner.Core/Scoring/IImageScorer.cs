using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// A score of a set of generated images, with its spread where the score has one: the standard
/// deviation over KID subsets or Inception Score splits. <paramref name="Tvd"/> is the total variation
/// distance of predicted-class histograms, which only the MNIST FID reports; NaN otherwise.
/// </summary>
public sealed record ScoreResult(double Value, double Tvd, double Spread = double.NaN);

/// <summary>
/// Scores generated images (N, side·side) in [-1, 1] against fixed real images. Implementations may
/// share read-only models between instances, but each instance is used by one thread at a time.
/// </summary>
public interface IImageScorer : IDisposable
{
    ScoreKind Kind { get; }

    ScoreResult Score(Tensor images);
}
