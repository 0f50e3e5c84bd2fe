using Lipizzaner.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring.Augmentation;

/// <summary>Test-fold metrics of one cross-validation fold, without and with the synthetic positives in training.</summary>
public sealed record FoldMetrics(
    int Fold,
    int TrainReal,
    int TrainSynthetic,
    int Test,
    double RealAccuracy,
    double RealAuc,
    double AugmentedAccuracy,
    double AugmentedAuc);

/// <summary>Mean and sample standard deviation over folds of one metric, for the real-only and the augmented classifier, with the paired test.</summary>
public sealed record MetricSummary(double RealMean, double RealDeviation, double AugmentedMean, double AugmentedDeviation, PairedTTest Test);

/// <summary>Outcome of <see cref="AugmentationEvaluation.Run"/>.</summary>
public sealed record AugmentationReport(
    int Positives,
    int Negatives,
    int Synthetic,
    int FoldCount,
    int Seed,
    double Penalty,
    IReadOnlyList<FoldMetrics> Folds,
    MetricSummary Accuracy,
    MetricSummary Auc);

/// <summary>
/// Tests whether synthetic positives help a classifier of real images: stratified k-fold cross-validation
/// of an L2-regularised logistic regression on image features, once trained on the real training folds
/// only and once with every synthetic positive added to the training folds. Test folds hold real images
/// only, so both classifiers are measured on the same images, and the per-fold differences go into a
/// paired t-test.
/// </summary>
public static class AugmentationEvaluation
{
    private const ulong FoldPurpose = 1;

    /// <summary>
    /// Returns the fold (0 to <paramref name="folds"/> − 1) of each sample: each class is shuffled with a
    /// stream seeded by <paramref name="seed"/>, then dealt to the folds in turn, so every fold gets ⌊n/k⌋ or
    /// ⌈n/k⌉ of each class.
    /// </summary>
    public static int[] StratifiedFolds(IReadOnlyList<int> labels, int folds, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        foreach (var group in labels.GroupBy(label => label))
        {
            if (group.Count() < folds)
            {
                throw new ArgumentException(
                    $"Class {group.Key} has {group.Count()} samples, fewer than the {folds} folds; use at most {group.Count()} folds.", nameof(folds));
            }
        }

        var random = new CellRandom(CellRandom.DeriveSeed(seed, 0, FoldPurpose));
        var assignment = new int[labels.Count];
        foreach (int label in labels.Distinct().Order())
        {
            var members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == label).ToList();
            random.Shuffle(members);
            for (int k = 0; k < members.Count; k++)
            {
                assignment[members[k]] = k % folds;
            }
        }

        return assignment;
    }

    /// <summary>
    /// Runs the cross-validation on real features (N, d) with labels 1 (positive) and 0 (negative) and
    /// synthetic positive features (M, d).
    /// </summary>
    public static AugmentationReport Run(
        Tensor realFeatures, IReadOnlyList<int> labels, Tensor syntheticFeatures, int folds = 10, int seed = 0, double penalty = 1.0)
    {
        ArgumentNullException.ThrowIfNull(realFeatures);
        ArgumentNullException.ThrowIfNull(syntheticFeatures);
        if (syntheticFeatures.shape[0] < 1 || syntheticFeatures.shape[1] != realFeatures.shape[1])
        {
            throw new ArgumentException(
                $"Synthetic features must be a non-empty (M, {realFeatures.shape[1]}) matrix; got [{string.Join(", ", syntheticFeatures.shape)}].", nameof(syntheticFeatures));
        }

        int[] foldOf = StratifiedFolds(labels, folds, seed);
        int synthetic = (int)syntheticFeatures.shape[0];
        var results = new List<FoldMetrics>();
        for (int fold = 0; fold < folds; fold++)
        {
            using var scope = torch.NewDisposeScope();
            long[] train = Enumerable.Range(0, labels.Count).Where(i => foldOf[i] != fold).Select(i => (long)i).ToArray();
            long[] test = Enumerable.Range(0, labels.Count).Where(i => foldOf[i] == fold).Select(i => (long)i).ToArray();
            var trainFeatures = realFeatures.index_select(0, torch.tensor(train));
            var testFeatures = realFeatures.index_select(0, torch.tensor(test));
            var trainLabels = train.Select(i => labels[(int)i]).ToArray();
            var testLabels = test.Select(i => labels[(int)i]).ToArray();

            var real = LogisticRegression.Fit(trainFeatures, trainLabels, penalty).PredictProbabilities(testFeatures);
            var augmentedFeatures = torch.cat([trainFeatures, syntheticFeatures.to(trainFeatures.dtype)], 0);
            var augmentedLabels = trainLabels.Concat(Enumerable.Repeat(1, synthetic)).ToArray();
            var augmented = LogisticRegression.Fit(augmentedFeatures, augmentedLabels, penalty).PredictProbabilities(testFeatures);

            results.Add(new FoldMetrics(
                fold + 1,
                train.Length,
                synthetic,
                test.Length,
                ClassifierStatistics.Accuracy(real, testLabels),
                ClassifierStatistics.RocAuc(real, testLabels),
                ClassifierStatistics.Accuracy(augmented, testLabels),
                ClassifierStatistics.RocAuc(augmented, testLabels)));
        }

        return new AugmentationReport(
            labels.Count(label => label == 1),
            labels.Count(label => label == 0),
            synthetic,
            folds,
            seed,
            penalty,
            results,
            Summarise(results.Select(r => r.RealAccuracy).ToArray(), results.Select(r => r.AugmentedAccuracy).ToArray()),
            Summarise(results.Select(r => r.RealAuc).ToArray(), results.Select(r => r.AugmentedAuc).ToArray()));
    }

    private static MetricSummary Summarise(double[] real, double[] augmented)
    {
        var (realMean, realDeviation) = ClassifierStatistics.MeanAndDeviation(real);
        var (augmentedMean, augmentedDeviation) = ClassifierStatistics.MeanAndDeviation(augmented);
        return new MetricSummary(realMean, realDeviation, augmentedMean, augmentedDeviation, ClassifierStatistics.PairedT(real, augmented));
    }
}
