namespace Lipizzaner.Core.Scoring.Augmentation;

/// <summary>Result of a paired two-sided t-test: the mean difference, its t statistic, degrees of freedom and p-value.</summary>
public sealed record PairedTTest(double MeanDifference, double T, int DegreesOfFreedom, double P);

/// <summary>Classification metrics and the statistics the augmentation evaluation reports.</summary>
public static class ClassifierStatistics
{
    /// <summary>
    /// Returns the area under the ROC curve of <paramref name="scores"/> for binary <paramref name="labels"/>:
    /// the probability that a random positive scores above a random negative, ties counting one half
    /// (the Mann–Whitney U statistic divided by the number of pairs).
    /// </summary>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        int positives = labels.Count(label => label == 1);
        int negatives = labels.Count - positives;
        if (scores.Count != labels.Count || positives == 0 || negatives == 0)
        {
            throw new ArgumentException("ROC AUC needs one score per label and at least one positive and one negative label.", nameof(labels));
        }

        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            // Tied scores share the mean of their 1-based ranks.
            double rank = ((start + end) / 2.0) + 1;
            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }

            start = end + 1;
        }

        double positiveRankSum = Enumerable.Range(0, ranks.Length).Where(i => labels[i] == 1).Sum(i => ranks[i]);
        double u = positiveRankSum - (positives * (positives + 1) / 2.0);
        return u / ((double)positives * negatives);
    }

    /// <summary>Returns the fraction of probabilities on the correct side of 0.5 (0.5 itself counts as label 1).</summary>
    public static double Accuracy(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels)
    {
        int correct = Enumerable.Range(0, labels.Count).Count(i => (probabilities[i] >= 0.5 ? 1 : 0) == labels[i]);
        return (double)correct / labels.Count;
    }

    /// <summary>Returns the mean and the sample standard deviation (N − 1).</summary>
    public static (double Mean, double StandardDeviation) MeanAndDeviation(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double variance = values.Count > 1 ? values.Sum(value => (value - mean) * (value - mean)) / (values.Count - 1) : 0;
        return (mean, Math.Sqrt(variance));
    }

    /// <summary>
    /// Paired two-sided t-test of <paramref name="second"/> − <paramref name="first"/>: t = mean / (sd / √n)
    /// with n − 1 degrees of freedom. Identical pairs give t = 0 and p = 1; a constant non-zero difference gives p = 0.
    /// </summary>
    public static PairedTTest PairedT(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        if (first.Count != second.Count || first.Count < 2)
        {
            throw new ArgumentException("A paired t-test needs two lists of the same length, at least 2.", nameof(second));
        }

        var differences = first.Zip(second, (a, b) => b - a).ToArray();
        var (mean, deviation) = MeanAndDeviation(differences);
        int degrees = differences.Length - 1;
        if (deviation == 0)
        {
            return new PairedTTest(mean, mean == 0 ? 0 : Math.Sign(mean) * double.PositiveInfinity, degrees, mean == 0 ? 1 : 0);
        }

        double t = mean / (deviation / Math.Sqrt(differences.Length));
        return new PairedTTest(mean, t, degrees, StudentTTwoSidedP(t, degrees));
    }

    /// <summary>Returns P(|T| ≥ |t|) for Student's t with <paramref name="degrees"/> degrees of freedom: I_{ν/(ν+t²)}(ν/2, 1/2).</summary>
    public static double StudentTTwoSidedP(double t, int degrees)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degrees, 1);
        double x = degrees / (degrees + (t * t));
        return RegularizedIncompleteBeta(degrees / 2.0, 0.5, x);
    }

    /// <summary>
    /// Returns the regularized incomplete beta function I_x(a, b), by the modified Lentz evaluation of its
    /// continued fraction. The tests check the t-test p-values it gives against t tables to 1e-8.
    /// </summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        double logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + (a * Math.Log(x)) + (b * Math.Log(1 - x));
        // The continued fraction converges quickly for x < (a + 1) / (a + b + 2); use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) otherwise.
        return x < (a + 1) / (a + b + 2)
            ? Math.Exp(logFront) * BetaContinuedFraction(a, b, x) / a
            : 1 - (Math.Exp(logFront) * BetaContinuedFraction(b, a, 1 - x) / b);
    }

    private static double BetaContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double c = 1;
        double d = 1 - ((a + b) * x / (a + 1));
        d = 1 / (Math.Abs(d) < tiny ? tiny : d);
        double h = d;
        for (int m = 1; m <= 300; m++)
        {
            int m2 = 2 * m;
            double even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + (even * d);
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + (even / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            h *= d * c;
            double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + (odd * d);
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + (odd / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
            {
                break;
            }
        }

        return h;
    }

    /// <summary>Returns ln Γ(x) for x &gt; 0 by the Lanczos approximation with g = 7 and 9 coefficients.</summary>
    private static double LogGamma(double x)
    {
        double[] coefficients =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7,
        ];
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        }

        x -= 1;
        double sum = coefficients[0];
        for (int i = 1; i < coefficients.Length; i++)
        {
            sum += coefficients[i] / (x + i);
        }

        double t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}
