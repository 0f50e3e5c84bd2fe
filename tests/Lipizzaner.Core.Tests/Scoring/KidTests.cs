using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Scoring;

public sealed class KidTests
{
    public KidTests() => TorchSetup.Configure(1);

    [Fact]
    public void UnbiasedMmd2_MatchesDirectSum()
    {
        using var x = Features(seed: 1, count: 7, dimension: 5, shift: 0);
        using var y = Features(seed: 2, count: 7, dimension: 5, shift: 0.3);

        double expected = DirectMmd2(x, y);

        Assert.Equal(expected, Kid.UnbiasedMmd2(x.to(ScalarType.Float64), y.to(ScalarType.Float64)), 1e-10);
    }

    [Fact]
    public void Compute_SetAgainstItself_IsNearZero()
    {
        using var a = Features(seed: 3, count: 190, dimension: 512, shift: 0);
        using var b = Features(seed: 4, count: 190, dimension: 512, shift: 0.5);

        var self = Kid.Compute(a, a, subsets: 50, subsetSize: 100, seed: 1);
        var other = Kid.Compute(a, b, subsets: 50, subsetSize: 100, seed: 1);

        Assert.True(other.Mean > 0.1, $"KID of shifted sets {other.Mean}");
        Assert.True(Math.Abs(self.Mean) < other.Mean / 100, $"KID of a set against itself {self.Mean}, shifted {other.Mean}");
    }

    [Fact]
    public void Compute_WholeSets_IsExactlySymmetric()
    {
        using var a = Features(seed: 5, count: 60, dimension: 512, shift: 0);
        using var b = Features(seed: 6, count: 60, dimension: 512, shift: 0.2);

        var forward = Kid.Compute(a, b, subsets: 3, subsetSize: 60, seed: 2);
        var backward = Kid.Compute(b, a, subsets: 3, subsetSize: 60, seed: 2);

        Assert.Equal(60, forward.SubsetSize);
        Assert.Equal(forward.Mean, backward.Mean, Math.Abs(forward.Mean) * 1e-12);
        Assert.Equal(0.0, forward.StandardDeviation, 1e-9);
    }

    [Fact]
    public void Compute_Subsets_SymmetricWithinSpread()
    {
        using var a = Features(seed: 7, count: 200, dimension: 64, shift: 0);
        using var b = Features(seed: 8, count: 200, dimension: 64, shift: 0.3);

        var forward = Kid.Compute(a, b, subsets: 100, subsetSize: 50, seed: 3);
        var backward = Kid.Compute(b, a, subsets: 100, subsetSize: 50, seed: 3);

        Assert.True(forward.StandardDeviation > 0);
        double standardError = forward.StandardDeviation / Math.Sqrt(100);
        Assert.True(Math.Abs(forward.Mean - backward.Mean) < 6 * standardError,
            $"forward {forward.Mean} and backward {backward.Mean} differ by more than 6 standard errors ({standardError})");
    }

    [Fact]
    public void Compute_SameSeed_Repeats()
    {
        using var a = Features(seed: 9, count: 80, dimension: 32, shift: 0);
        using var b = Features(seed: 10, count: 90, dimension: 32, shift: 0.1);

        var first = Kid.Compute(a, b, subsets: 20, subsetSize: 30, seed: 4);
        var second = Kid.Compute(a, b, subsets: 20, subsetSize: 30, seed: 4);
        var other = Kid.Compute(a, b, subsets: 20, subsetSize: 30, seed: 5);

        Assert.Equal(first, second);
        Assert.NotEqual(first.Mean, other.Mean);
    }

    [Fact]
    public void Compute_FewerSamplesThanFeatures_IsDefined()
    {
        using var a = Features(seed: 11, count: 20, dimension: 512, shift: 0);
        using var b = Features(seed: 12, count: 30, dimension: 512, shift: 1);

        var result = Kid.Compute(a, b);

        Assert.Equal(20, result.SubsetSize);
        Assert.True(double.IsFinite(result.Mean));
        Assert.True(result.Mean > 0);
    }

    [Fact]
    public void Compute_OneSample_IsAnError()
    {
        using var a = Features(seed: 13, count: 1, dimension: 8, shift: 0);
        using var b = Features(seed: 14, count: 10, dimension: 8, shift: 0);

        var error = Assert.Throws<ArgumentException>(() => Kid.Compute(a, b));

        Assert.Contains("at least 2 samples", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_DifferentFeatureCounts_IsAnError()
    {
        using var a = Features(seed: 15, count: 10, dimension: 8, shift: 0);
        using var b = Features(seed: 16, count: 10, dimension: 9, shift: 0);

        Assert.Throws<ArgumentException>(() => Kid.Compute(a, b));
    }

    /// <summary>Non-negative features like pooled ReLU outputs, plus a constant shift.</summary>
    private static Tensor Features(int seed, int count, int dimension, double shift)
    {
        using var random = new torch.Generator((ulong)seed);
        return torch.rand([count, dimension], generator: random) + shift;
    }

    /// <summary>The unbiased MMD² written out as sums over sample pairs.</summary>
    private static double DirectMmd2(Tensor x, Tensor y)
    {
        double[,] a = ToArray(x);
        double[,] b = ToArray(y);
        int m = a.GetLength(0);
        int d = a.GetLength(1);
        double Kernel(double[,] p, int i, double[,] q, int j)
        {
            double dot = 0;
            for (int k = 0; k < d; k++)
            {
                dot += p[i, k] * q[j, k];
            }

            return Math.Pow((dot / d) + 1, 3);
        }

        double xx = 0;
        double yy = 0;
        double xy = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++)
            {
                if (i != j)
                {
                    xx += Kernel(a, i, a, j);
                    yy += Kernel(b, i, b, j);
                }

                xy += Kernel(a, i, b, j);
            }
        }

        return ((xx + yy) / (m * (m - 1.0))) - (2 * xy / (m * (double)m));
    }

    private static double[,] ToArray(Tensor tensor)
    {
        var values = tensor.to(ScalarType.Float64).data<double>().ToArray();
        int rows = (int)tensor.shape[0];
        int columns = (int)tensor.shape[1];
        var result = new double[rows, columns];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                result[i, j] = values[(i * columns) + j];
            }
        }

        return result;
    }
}
