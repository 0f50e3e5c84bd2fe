using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Scoring;

public sealed class FidTests
{
    public FidTests() => TorchSetup.Configure(1);

    [Fact]
    public void Distance_IdenticalSets_IsExactlyZero()
    {
        using var features = RandomFeatures(seed: 1, count: 500, shift: 0);
        var first = FeatureStatistics.FromFeatures(features);
        var second = FeatureStatistics.FromFeatures(features.clone());

        Assert.Equal(0.0, Fid.Distance(first, second));
        Assert.Equal(0.0, Fid.TotalVariation(first, second));
    }

    [Fact]
    public void Distance_IsSymmetric()
    {
        using var a = RandomFeatures(seed: 2, count: 400, shift: 0);
        using var b = RandomFeatures(seed: 3, count: 300, shift: 0.5);
        var first = FeatureStatistics.FromFeatures(a);
        var second = FeatureStatistics.FromFeatures(b);

        double forward = Fid.Distance(first, second);
        double backward = Fid.Distance(second, first);

        Assert.True(forward > 0);
        Assert.Equal(forward, backward, forward * 1e-9);
    }

    [Fact]
    public void Distance_ShiftedMeans_AddsSquaredShift()
    {
        // Same covariance, means differing by 2 in every one of 10 dimensions: FID = 10 · 2² = 40.
        using var a = RandomFeatures(seed: 4, count: 2000, shift: 0);
        using var b = (a + 2).DetachFromDisposeScope();

        double distance = Fid.Distance(FeatureStatistics.FromFeatures(a), FeatureStatistics.FromFeatures(b));

        Assert.Equal(40.0, distance, 1e-6);
    }

    [Fact]
    public void Distance_DiagonalCovariances_MatchesClosedForm()
    {
        // For diagonal Σ1 = diag(s1²), Σ2 = diag(s2²): FID = |μ1 − μ2|² + Σ (s1 − s2)².
        var first = FeatureStatistics.FromFeatures(DiagonalSample([1, 2], [0, 0]));
        var second = FeatureStatistics.FromFeatures(DiagonalSample([3, 1], [1, -1]));

        double expected = 1 + 1 + (1 - 3) * (1 - 3) + (2 - 1) * (2 - 1);
        Assert.Equal(expected, Fid.Distance(first, second), 1e-9);
    }

    [Fact]
    public void FromFeatures_HandCheckedCovariance_UsesNMinusOne()
    {
        // Points (0,0), (2,0), (0,2), (2,2): mean (1,1); var = 4/3 each, cov 0, with N − 1 = 3.
        using var features = torch.tensor(new double[] { 0, 0, 2, 0, 0, 2, 2, 2 }, [4, 2], ScalarType.Float64);

        var statistics = FeatureStatistics.FromFeatures(features);

        Assert.Equal([1.0, 1.0], statistics.Mean);
        Assert.Equal(4.0 / 3, statistics.Covariance[0, 0], 12);
        Assert.Equal(4.0 / 3, statistics.Covariance[1, 1], 12);
        Assert.Equal(0.0, statistics.Covariance[0, 1], 12);
        Assert.Equal(2, statistics.Covariance.GetLength(0));
        Assert.Equal(2, statistics.Covariance.GetLength(1));
    }

    [Fact]
    public void FromFeatures_FewerSamplesThanDimensions_Throws()
    {
        using var features = torch.randn(9, 10);

        var error = Assert.Throws<ArgumentException>(() => FeatureStatistics.FromFeatures(features));

        Assert.Contains("9 samples", error.Message, StringComparison.Ordinal);
        Assert.Contains("10 features", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TotalVariation_DisjointClasses_IsOne()
    {
        using var first = OneHot(0, 20);
        using var second = OneHot(3, 20);

        double tvd = Fid.TotalVariation(FeatureStatistics.FromFeatures(first), FeatureStatistics.FromFeatures(second));

        Assert.Equal(1.0, tvd, 12);
    }

    private static Tensor RandomFeatures(int seed, int count, double shift)
    {
        using var random = new torch.Generator((ulong)seed);
        return (torch.randn([count, 10], generator: random, dtype: ScalarType.Float64) * 3 + shift).DetachFromDisposeScope();
    }

    /// <summary>Two-dimensional points whose per-axis mean and standard deviation are exactly the given values.</summary>
    private static Tensor DiagonalSample(double[] deviations, double[] means)
    {
        // The four points (±a, ±b) have sample variance a²·4/3 per axis; scale so it is exactly s².
        double scale = Math.Sqrt(3.0 / 4);
        var values = new List<double>();
        foreach (var (sx, sy) in new[] { (1, 1), (1, -1), (-1, 1), (-1, -1) })
        {
            values.Add(means[0] + sx * deviations[0] * scale);
            values.Add(means[1] + sy * deviations[1] * scale);
        }

        return torch.tensor(values.ToArray(), [4, 2], ScalarType.Float64);
    }

    private static Tensor OneHot(int hot, int count)
    {
        var values = new double[count * 10];
        for (int row = 0; row < count; row++)
        {
            for (int column = 0; column < 10; column++)
            {
                // A large hot logit plus small distinct noise keeps the covariance full-rank.
                values[row * 10 + column] = (column == hot ? 10 : 0) + Math.Sin(row * 7.1 + column * 1.3);
            }
        }

        return torch.tensor(values, [count, 10], ScalarType.Float64);
    }
}
