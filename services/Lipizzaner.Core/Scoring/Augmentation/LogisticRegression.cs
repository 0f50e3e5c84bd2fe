using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring.Augmentation;

/// <summary>
/// Binary logistic regression with an L2 penalty on the weights (not the bias), fitted by Newton's
/// method in float64 on standardised features. The penalised log-likelihood is strictly concave, so
/// the fit is unique and does not depend on a seed or a learning rate.
/// </summary>
public sealed class LogisticRegression
{
    private const int MaxIterations = 50;
    private const double Tolerance = 1e-10;

    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly double[] _weights;

    private LogisticRegression(double[] mean, double[] scale, double[] weights, int iterations)
    {
        _mean = mean;
        _scale = scale;
        _weights = weights;
        Iterations = iterations;
    }

    /// <summary>Newton steps taken until the largest weight change fell below 1e-10 (at most 50).</summary>
    public int Iterations { get; }

    /// <summary>
    /// Fits features (N, d) to labels 0 or 1. Each feature is standardised by its training mean and
    /// standard deviation (a constant feature is only centred), then the negative log-likelihood plus
    /// <paramref name="penalty"/> / 2 · |w|² is minimised.
    /// </summary>
    public static LogisticRegression Fit(Tensor features, IReadOnlyList<int> labels, double penalty = 1.0)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.shape[0] != labels.Count)
        {
            throw new ArgumentException($"{features.shape[0]} feature rows for {labels.Count} labels.", nameof(labels));
        }

        if (labels.Any(label => label is not (0 or 1)) || !labels.Contains(0) || !labels.Contains(1))
        {
            throw new ArgumentException("Logistic regression needs labels 0 and 1, each at least once.", nameof(labels));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(penalty);
        using var scope = torch.NewDisposeScope();
        var x = features.detach().cpu().to(ScalarType.Float64);
        var mean = x.mean([0]);
        var std = x.std(0, unbiased: false);
        var scale = torch.where(std > 1e-12, std, torch.ones_like(std));
        var design = torch.cat([(x - mean) / scale, torch.ones([x.shape[0], 1], ScalarType.Float64)], 1);
        var y = torch.tensor(labels.Select(label => (double)label).ToArray(), ScalarType.Float64);
        long columns = design.shape[1];
        var penaltyDiagonal = torch.full([columns], penalty, ScalarType.Float64);
        penaltyDiagonal[columns - 1] = 0;
        var w = torch.zeros([columns], ScalarType.Float64);

        int iteration = 0;
        while (iteration < MaxIterations)
        {
            iteration++;
            var p = design.matmul(w).sigmoid();
            var gradient = design.t().matmul(p - y) + (penaltyDiagonal * w);
            var curvature = p * (1 - p);
            var hessian = (design.t() * curvature).matmul(design) + torch.diag(penaltyDiagonal);
            var step = torch.linalg.solve(hessian, gradient);
            w = w - step;
            if (step.abs().max().item<double>() < Tolerance)
            {
                break;
            }
        }

        return new LogisticRegression(
            mean.data<double>().ToArray(), scale.data<double>().ToArray(), w.data<double>().ToArray(), iteration);
    }

    /// <summary>Returns the probability of label 1 for each row of <paramref name="features"/> (N, d).</summary>
    public double[] PredictProbabilities(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = torch.NewDisposeScope();
        var x = features.detach().cpu().to(ScalarType.Float64);
        var standardised = (x - torch.tensor(_mean, ScalarType.Float64)) / torch.tensor(_scale, ScalarType.Float64);
        int d = _mean.Length;
        var weights = torch.tensor(_weights.AsSpan(0, d).ToArray(), ScalarType.Float64);
        var logits = standardised.matmul(weights) + _weights[d];
        return logits.sigmoid().data<double>().ToArray();
    }
}
