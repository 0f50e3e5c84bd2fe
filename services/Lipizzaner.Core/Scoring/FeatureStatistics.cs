using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// Mean and covariance (N − 1 denominator) of a set of feature vectors, in float64, plus the
/// histogram of predicted classes (the argmax feature) for the total variation distance.
/// </summary>
public sealed class FeatureStatistics
{
    private FeatureStatistics(double[] mean, double[,] covariance, double[] classFrequencies, int sampleCount)
    {
        Mean = mean;
        Covariance = covariance;
        ClassFrequencies = classFrequencies;
        SampleCount = sampleCount;
    }

    public double[] Mean { get; }

    /// <summary>Features × features covariance.</summary>
    public double[,] Covariance { get; }

    /// <summary>Fraction of samples whose largest feature has each index.</summary>
    public double[] ClassFrequencies { get; }

    public int SampleCount { get; }

    public int Dimension => Mean.Length;

    /// <summary>Computes the statistics of <paramref name="features"/> (N, d). Requires N ≥ d, so the covariance can have full rank.</summary>
    public static FeatureStatistics FromFeatures(Tensor features)
    {
        if (features.dim() != 2)
        {
            throw new ArgumentException($"Features must be a (samples, dimensions) matrix; got shape [{string.Join(", ", features.shape)}].", nameof(features));
        }

        int count = (int)features.shape[0];
        int dimension = (int)features.shape[1];
        if (count < dimension)
        {
            throw new ArgumentException(
                $"FID needs at least as many samples as feature dimensions: got {count} samples of {dimension} features. Increase the sample size to {dimension} or more.",
                nameof(features));
        }

        using var scope = torch.NewDisposeScope();
        var x = features.detach().cpu().to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centered = x - mean;
        var covariance = centered.t().matmul(centered) / (count - 1);
        var predicted = x.argmax(1);
        var histogram = torch.bincount(predicted, minlength: dimension).to(ScalarType.Float64) / count;

        return new FeatureStatistics(
            mean.data<double>().ToArray(),
            ToMatrix(covariance, dimension),
            histogram.data<double>().ToArray(),
            count);
    }

    private static double[,] ToMatrix(Tensor tensor, int dimension)
    {
        var values = tensor.contiguous().data<double>().ToArray();
        var matrix = new double[dimension, dimension];
        Buffer.BlockCopy(values, 0, matrix, 0, values.Length * sizeof(double));
        return matrix;
    }
}
