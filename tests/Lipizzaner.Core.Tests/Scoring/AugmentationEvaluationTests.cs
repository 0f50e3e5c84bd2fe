using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Scoring;

public sealed class AugmentationEvaluationTests
{
    public AugmentationEvaluationTests() => TorchSetup.Configure(1);

    [Theory]
    [InlineData(2.776445105, 4, 0.05)]
    [InlineData(2.228138852, 10, 0.05)]
    [InlineData(1.0, 1, 0.5)]
    [InlineData(0.0, 7, 1.0)]
    [InlineData(3.249835542, 9, 0.01)]
    public void StudentTTwoSidedP_MatchesTables(double t, int degrees, double expected)
    {
        Assert.Equal(expected, ClassifierStatistics.StudentTTwoSidedP(t, degrees), 1e-8);
        Assert.Equal(expected, ClassifierStatistics.StudentTTwoSidedP(-t, degrees), 1e-8);
    }

    [Fact]
    public void PairedT_KnownDifferences()
    {
        double[] first = [0.80, 0.75, 0.90, 0.85, 0.70];
        double[] second = [0.82, 0.79, 0.91, 0.90, 0.71];

        var test = ClassifierStatistics.PairedT(first, second);

        // Differences 0.02, 0.04, 0.01, 0.05, 0.01: mean 0.026, sd 0.018166, t = 3.2004 with 4 degrees of freedom.
        Assert.Equal(0.026, test.MeanDifference, 1e-12);
        Assert.Equal(3.2004, test.T, 1e-3);
        Assert.Equal(4, test.DegreesOfFreedom);
        Assert.InRange(test.P, 0.032, 0.034);
    }

    [Fact]
    public void PairedT_IdenticalLists_IsPOne()
    {
        double[] values = [0.5, 0.6, 0.7];

        var test = ClassifierStatistics.PairedT(values, values);

        Assert.Equal(0, test.T);
        Assert.Equal(1, test.P);
    }

    [Fact]
    public void RocAuc_PerfectRandomAndTied()
    {
        int[] labels = [0, 0, 1, 1];

        Assert.Equal(1.0, ClassifierStatistics.RocAuc([0.1, 0.2, 0.8, 0.9], labels));
        Assert.Equal(0.0, ClassifierStatistics.RocAuc([0.9, 0.8, 0.2, 0.1], labels));
        Assert.Equal(0.5, ClassifierStatistics.RocAuc([0.5, 0.5, 0.5, 0.5], labels));
        // Positives 0.4 and 0.8 against negatives 0.1 and 0.4: three wins and one tie, so 3.5 of 4 pairs.
        Assert.Equal(3.5 / 4, ClassifierStatistics.RocAuc([0.1, 0.4, 0.4, 0.8], labels));
    }

    [Fact]
    public void StratifiedFolds_BalanceEveryClass()
    {
        int[] labels = [.. Enumerable.Repeat(1, 23), .. Enumerable.Repeat(0, 17)];

        int[] folds = AugmentationEvaluation.StratifiedFolds(labels, 5, seed: 3);

        for (int fold = 0; fold < 5; fold++)
        {
            int positives = Enumerable.Range(0, labels.Length).Count(i => folds[i] == fold && labels[i] == 1);
            int negatives = Enumerable.Range(0, labels.Length).Count(i => folds[i] == fold && labels[i] == 0);
            Assert.InRange(positives, 4, 5);
            Assert.InRange(negatives, 3, 4);
        }

        Assert.Equal(folds, AugmentationEvaluation.StratifiedFolds(labels, 5, seed: 3));
        Assert.NotEqual(folds, AugmentationEvaluation.StratifiedFolds(labels, 5, seed: 4));
    }

    [Fact]
    public void StratifiedFolds_MoreFoldsThanSamples_IsAnError()
    {
        var error = Assert.Throws<ArgumentException>(() => AugmentationEvaluation.StratifiedFolds([1, 1, 0, 0, 0], 3, seed: 0));

        Assert.Contains("fewer than the 3 folds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LogisticRegression_SeparatesShiftedClasses()
    {
        var (features, labels) = TwoClasses(seed: 1, perClass: 60, dimension: 8, shift: 2.0);

        var model = LogisticRegression.Fit(features, labels);
        var probabilities = model.PredictProbabilities(features);

        Assert.True(model.Iterations < 50, $"{model.Iterations} Newton steps");
        Assert.True(ClassifierStatistics.Accuracy(probabilities, labels) > 0.9);
        Assert.True(ClassifierStatistics.RocAuc(probabilities, labels) > 0.95);
    }

    [Fact]
    public void LogisticRegression_OneClass_IsAnError()
    {
        using var features = torch.rand([4, 3]);

        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(features, [1, 1, 1, 1]));
    }

    [Fact]
    public void Run_HelpfulSyntheticPositivesRaiseAuc()
    {
        // Synthetic positives drawn from the real positives' distribution add information, so the
        // augmented classifier should not be worse.
        var (real, labels) = TwoClasses(seed: 2, perClass: 30, dimension: 20, shift: 0.6);
        using var random = new torch.Generator(9);
        using var synthetic = torch.randn([200, 20], generator: random) + ShiftVector(20, 0.6);

        var report = AugmentationEvaluation.Run(real, labels, synthetic, folds: 5, seed: 1);

        Assert.Equal(5, report.Folds.Count);
        Assert.All(report.Folds, fold => Assert.Equal(12, fold.Test));
        Assert.All(report.Folds, fold => Assert.Equal(200, fold.TrainSynthetic));
        Assert.True(report.Auc.AugmentedMean >= report.Auc.RealMean, $"AUC real {report.Auc.RealMean}, augmented {report.Auc.AugmentedMean}");
        Assert.Equal(report.Auc.AugmentedMean - report.Auc.RealMean, report.Auc.Test.MeanDifference, 1e-12);
    }

    [Fact]
    public void Run_MislabelledSyntheticPositivesLowerAuc()
    {
        var (real, labels) = TwoClasses(seed: 3, perClass: 30, dimension: 10, shift: 1.0);
        using var random = new torch.Generator(10);
        // "Positives" drawn from the negative class's distribution teach the classifier the wrong boundary.
        using var synthetic = torch.randn([300, 10], generator: random);

        var report = AugmentationEvaluation.Run(real, labels, synthetic, folds: 5, seed: 1);

        Assert.True(report.Auc.AugmentedMean < report.Auc.RealMean, $"AUC real {report.Auc.RealMean}, augmented {report.Auc.AugmentedMean}");
        Assert.True(report.Accuracy.AugmentedMean < report.Accuracy.RealMean);
    }

    /// <summary>Standard normal negatives (label 0) and positives (label 1) shifted by <paramref name="shift"/> in every dimension.</summary>
    private static (Tensor Features, int[] Labels) TwoClasses(int seed, int perClass, int dimension, double shift)
    {
        using var random = new torch.Generator((ulong)seed);
        var negatives = torch.randn([perClass, dimension], generator: random);
        var positives = torch.randn([perClass, dimension], generator: random) + ShiftVector(dimension, shift);
        int[] labels = [.. Enumerable.Repeat(1, perClass), .. Enumerable.Repeat(0, perClass)];
        return (torch.cat([positives, negatives], 0), labels);
    }

    private static Tensor ShiftVector(int dimension, double shift) => torch.full([dimension], (float)shift);
}
