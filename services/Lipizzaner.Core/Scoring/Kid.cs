using Lipizzaner.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>Mean and standard deviation of the KID over its subsets, and the subset size used.</summary>
public sealed record KidResult(double Mean, double StandardDeviation, int Subsets, int SubsetSize);

/// <summary>
/// Kernel inception distance: the unbiased estimate of
/// the squared maximum mean discrepancy with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³,
/// averaged over random subsets of equal size m drawn without replacement from each set. Unlike FID it
/// needs no covariance matrix, so it is defined for fewer samples than feature dimensions. Values can be
/// slightly negative when the two sets come from one distribution; they are not clamped.
/// </summary>
public static class Kid
{
    /// <summary>Subsets per estimate.</summary>
    public const int DefaultSubsets = 100;

    /// <summary>Subset size; capped at the smaller set's size.</summary>
    public const int DefaultSubsetSize = 1000;

    /// <summary>
    /// Computes the KID between feature sets (N₁, d) and (N₂, d). The subset size is
    /// min(<paramref name="subsetSize"/>, N₁, N₂), and the subsets come from a stream seeded by
    /// <paramref name="seed"/>, so one seed gives the same subsets of two sets of the same sizes.
    /// </summary>
    public static KidResult Compute(Tensor first, Tensor second, int subsets = DefaultSubsets, int subsetSize = DefaultSubsetSize, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(subsets, 1);
        if (first.dim() != 2 || second.dim() != 2 || first.shape[1] != second.shape[1])
        {
            throw new ArgumentException(
                $"KID needs two (samples, features) matrices with the same feature count; got [{string.Join(", ", first.shape)}] and [{string.Join(", ", second.shape)}].");
        }

        int size = (int)Math.Min(subsetSize, Math.Min(first.shape[0], second.shape[0]));
        if (size < 2)
        {
            throw new ArgumentException(
                $"KID needs at least 2 samples in each set and a subset size of at least 2; got {first.shape[0]} and {second.shape[0]} samples, subset size {subsetSize}.");
        }

        using var scope = torch.NewDisposeScope();
        var x = first.detach().cpu().to(ScalarType.Float64);
        var y = second.detach().cpu().to(ScalarType.Float64);
        var random = new CellRandom(seed);
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            var xs = x.index_select(0, SubsetIndex(x.shape[0], size, random));
            var ys = y.index_select(0, SubsetIndex(y.shape[0], size, random));
            values[s] = UnbiasedMmd2(xs, ys);
        }

        double mean = values.Average();
        double variance = values.Sum(value => (value - mean) * (value - mean)) / values.Length;
        return new KidResult(mean, Math.Sqrt(variance), subsets, size);
    }

    /// <summary>
    /// Returns the unbiased MMD² of two samples of equal size m: the off-diagonal means of k(X, X) and k(Y, Y) minus
    /// twice the mean of k(X, Y).
    /// </summary>
    public static double UnbiasedMmd2(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        long m = x.shape[0];
        double dimension = x.shape[1];
        var kxx = Kernel(x, x, dimension);
        var kyy = Kernel(y, y, dimension);
        var kxy = Kernel(x, y, dimension);
        double offDiagonal = (kxx.sum().item<double>() - kxx.trace().item<double>() + kyy.sum().item<double>() - kyy.trace().item<double>()) / (m * (m - 1.0));
        double cross = 2 * kxy.sum().item<double>() / ((double)m * m);
        return offDiagonal - cross;
    }

    private static Tensor Kernel(Tensor a, Tensor b, double dimension) => (a.matmul(b.t()) / dimension + 1).pow(3);

    /// <summary>Draws <paramref name="size"/> distinct row indices of <paramref name="count"/> by a partial Fisher–Yates shuffle.</summary>
    private static Tensor SubsetIndex(long count, int size, CellRandom random)
    {
        var order = new long[count];
        for (long i = 0; i < count; i++)
        {
            order[i] = i;
        }

        for (int i = 0; i < size; i++)
        {
            int j = i + random.NextInt((int)(count - i));
            (order[i], order[j]) = (order[j], order[i]);
        }

        return torch.tensor(order.AsSpan(0, size).ToArray());
    }
}
