using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// Fréchet distance between two Gaussians fitted to feature sets:
/// <c>|μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 tr (Σ1^½ Σ2 Σ1^½)^½</c>. The trace term uses symmetric
/// eigen-decompositions in float64, so no complex square root is needed; eigenvalues below zero,
/// which only rounding produces for covariance matrices, are clamped to zero.
/// </summary>
public static class Fid
{
    public static double Distance(FeatureStatistics first, FeatureStatistics second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Dimension != second.Dimension)
        {
            throw new ArgumentException($"Feature dimensions differ: {first.Dimension} and {second.Dimension}.", nameof(second));
        }

        // Identical statistics have distance exactly 0; the eigen path would leave rounding residue.
        if (first.Mean.AsSpan().SequenceEqual(second.Mean) && SameMatrix(first.Covariance, second.Covariance))
        {
            return 0;
        }

        using var scope = torch.NewDisposeScope();
        var mean1 = torch.tensor(first.Mean, ScalarType.Float64);
        var mean2 = torch.tensor(second.Mean, ScalarType.Float64);
        var sigma1 = ToTensor(first.Covariance);
        var sigma2 = ToTensor(second.Covariance);

        double meanTerm = (mean1 - mean2).square().sum().item<double>();
        double traces = sigma1.trace().item<double>() + sigma2.trace().item<double>();

        var sqrtSigma1 = SymmetricSquareRoot(sigma1);
        var product = sqrtSigma1.matmul(sigma2).matmul(sqrtSigma1);
        product = (product + product.t()) / 2;
        var eigenvalues = torch.linalg.eigvalsh(product).clamp_min(0);
        double traceOfRoot = eigenvalues.sqrt().sum().item<double>();

        double distance = meanTerm + traces - 2 * traceOfRoot;

        // The exact value is never negative; a negative result is rounding of a near-zero distance.
        return Math.Max(0, distance);
    }

    /// <summary>Total variation distance between the predicted-class histograms: ½ Σ |f1 − f2|.</summary>
    public static double TotalVariation(FeatureStatistics first, FeatureStatistics second)
    {
        double sum = 0;
        for (int i = 0; i < first.ClassFrequencies.Length; i++)
        {
            sum += Math.Abs(first.ClassFrequencies[i] - second.ClassFrequencies[i]);
        }

        return sum / 2;
    }

    private static Tensor SymmetricSquareRoot(Tensor matrix)
    {
        var (eigenvalues, eigenvectors) = torch.linalg.eigh(matrix);
        var roots = eigenvalues.clamp_min(0).sqrt();
        return eigenvectors.matmul(torch.diag(roots)).matmul(eigenvectors.t());
    }

    private static Tensor ToTensor(double[,] matrix)
    {
        int rows = matrix.GetLength(0);
        int columns = matrix.GetLength(1);
        var flat = new double[rows * columns];
        Buffer.BlockCopy(matrix, 0, flat, 0, flat.Length * sizeof(double));
        return torch.tensor(flat, [rows, columns], ScalarType.Float64);
    }

    private static bool SameMatrix(double[,] first, double[,] second)
    {
        if (first.GetLength(0) != second.GetLength(0) || first.GetLength(1) != second.GetLength(1))
        {
            return false;
        }

        for (int i = 0; i < first.GetLength(0); i++)
        {
            for (int j = 0; j < first.GetLength(1); j++)
            {
                if (first[i, j] != second[i, j])
                {
                    return false;
                }
            }
        }

        return true;
    }
}
