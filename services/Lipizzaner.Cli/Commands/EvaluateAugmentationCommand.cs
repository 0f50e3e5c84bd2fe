using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Scoring.Augmentation;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Cli.Commands;

/// <summary>
/// <c>lipizzaner evaluate-augmentation</c>: cross-validates a positive-versus-negative classifier of real
/// images with and without synthetic positives in its training folds (see <see cref="AugmentationEvaluation"/>).
/// The classifier is a logistic regression on ResNet18 ImageNet features of the images at the GAN's size.
/// NOTE: a GAN trained on every real positive has seen the positives of each test fold too, so its
/// synthetic images can leak test information; training one GAN per fold would avoid that.
/// </summary>
public static class EvaluateAugmentationCommand
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static Command Create()
    {
        var positiveOption = new Option<DirectoryInfo>("--positive")
        {
            Description = "Folder of real positive images (for example COVID-19 chest X-rays).",
            Required = true,
        };
        var negativeOption = new Option<DirectoryInfo>("--negative")
        {
            Description = "Folder of real negative images (other findings).",
            Required = true,
        };
        var syntheticOption = new Option<DirectoryInfo>("--synthetic")
        {
            Description = "Folder of synthetic positive images only, as 'lipizzaner sample' writes them; they join the training folds, never the test folds.",
            Required = true,
        };
        var foldsOption = new Option<int>("--folds")
        {
            Description = "Number of stratified cross-validation folds (at least 2).",
            DefaultValueFactory = _ => 10,
        };
        var seedOption = new Option<int>("--seed")
        {
            Description = "Seed of the fold assignment.",
            DefaultValueFactory = _ => 0,
        };
        var sizeOption = new Option<int>("--image-size")
        {
            Description = "Side in pixels that every image is resized to before feature extraction; 0: the side of the first synthetic image.",
            DefaultValueFactory = _ => 0,
        };
        var penaltyOption = new Option<double>("--penalty")
        {
            Description = "L2 penalty of the logistic regression on standardised features (greater than 0).",
            DefaultValueFactory = _ => 1.0,
        };
        var threadsOption = new Option<int>("--threads")
        {
            Description = "Threads for the ResNet18 feature model; 0: one per processor.",
            DefaultValueFactory = _ => 0,
        };
        var jsonOption = new Option<bool>("--json")
        {
            Description = "Print the report as one JSON object instead of text.",
        };

        var command = new Command(
            "evaluate-augmentation",
            "Cross-validate a positive-versus-negative classifier (logistic regression on ResNet18 features) on real images, without and with synthetic positives in the training folds, and report accuracy and ROC AUC with a paired t-test.")
        {
            positiveOption, negativeOption, syntheticOption, foldsOption, seedOption, sizeOption, penaltyOption, threadsOption, jsonOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => Task.FromResult(Evaluate(
            parseResult.GetValue(positiveOption)!,
            parseResult.GetValue(negativeOption)!,
            parseResult.GetValue(syntheticOption)!,
            new EvaluationSettings(
                parseResult.GetValue(foldsOption),
                parseResult.GetValue(seedOption),
                parseResult.GetValue(sizeOption),
                parseResult.GetValue(penaltyOption),
                parseResult.GetValue(threadsOption),
                parseResult.GetValue(jsonOption)),
            logger))));
        return command;
    }

    private static int Evaluate(DirectoryInfo positive, DirectoryInfo negative, DirectoryInfo synthetic, EvaluationSettings settings, ILogger logger)
    {
        if (settings.Folds < 2)
        {
            throw new ArgumentException($"--folds {settings.Folds} is invalid; pass 2 or more.");
        }

        if (!(settings.Penalty > 0))
        {
            throw new ArgumentException($"--penalty {settings.Penalty} is invalid; pass a number greater than 0.");
        }

        RejectRealImagesIn(synthetic.FullName);
        int threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        TorchSetup.Configure(1);
        int side = settings.ImageSize > 0 ? settings.ImageSize : ImageFolders.FirstImageSide(synthetic.FullName, "--synthetic");
        using var features = ResNet18Features.Load(threads);
        long started = Stopwatch.GetTimestamp();
        using var positiveFeatures = Extract(features, positive.FullName, side, logger);
        using var negativeFeatures = Extract(features, negative.FullName, side, logger);
        using var syntheticFeatures = Extract(features, synthetic.FullName, side, logger);
        logger.LogInformation("ResNet18 features of {Count} images at {Side}x{Side} in {Seconds:F1} s",
            positiveFeatures.shape[0] + negativeFeatures.shape[0] + syntheticFeatures.shape[0], side, side,
            Stopwatch.GetElapsedTime(started).TotalSeconds);

        using var real = torch.cat([positiveFeatures, negativeFeatures], 0);
        var labels = Enumerable.Repeat(1, (int)positiveFeatures.shape[0]).Concat(Enumerable.Repeat(0, (int)negativeFeatures.shape[0])).ToArray();
        var report = AugmentationEvaluation.Run(real, labels, syntheticFeatures, settings.Folds, settings.Seed, settings.Penalty);
        Console.WriteLine(settings.Json ? JsonSerializer.Serialize(report, IndentedJson) : FormatReport(report, side));
        return LipizzanerCommand.Success;
    }

    /// <summary>Formats the report as Markdown: one row per fold, then the summary with the paired tests.</summary>
    public static string FormatReport(AugmentationReport report, int side)
    {
        ArgumentNullException.ThrowIfNull(report);
        var invariant = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(invariant, $"{report.Positives} positive and {report.Negatives} negative real images, {report.Synthetic} synthetic positives, {side}x{side} pixels; {report.FoldCount}-fold stratified cross-validation, seed {report.Seed}, L2 penalty {report.Penalty}.");
        text.AppendLine();
        text.AppendLine("| fold | train (real + synthetic) | test | accuracy real | accuracy augmented | ROC AUC real | ROC AUC augmented |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var fold in report.Folds)
        {
            text.AppendLine(invariant, $"| {fold.Fold} | {fold.TrainReal} + {fold.TrainSynthetic} | {fold.Test} | {fold.RealAccuracy:F3} | {fold.AugmentedAccuracy:F3} | {fold.RealAuc:F3} | {fold.AugmentedAuc:F3} |");
        }

        text.AppendLine();
        AppendSummary(text, "accuracy", report.Accuracy);
        AppendSummary(text, "ROC AUC", report.Auc);
        return text.ToString().TrimEnd();
    }

    private static void AppendSummary(StringBuilder text, string name, MetricSummary summary)
    {
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine(invariant,
            $"- {name}: real only {summary.RealMean:F3} ± {summary.RealDeviation:F3}, with synthetic {summary.AugmentedMean:F3} ± {summary.AugmentedDeviation:F3}; "
            + $"mean difference {summary.Test.MeanDifference:+0.000;-0.000;0.000}, paired t({summary.Test.DegreesOfFreedom}) = {summary.Test.T:F2}, p = {summary.Test.P:G3}");
    }

    private static Tensor Extract(ResNet18Features features, string folder, int side, ILogger logger)
    {
        using var dataset = ImageFolderDataset.Load(new ImageFolderOptions(folder, side, CacheDirectory: ImageCache.DefaultDirectory), logger);
        return features.Extract(dataset.Images);
    }

    /// <summary>Rejects an augmented data set folder, whose real copies would leak into the synthetic training images.</summary>
    private static void RejectRealImagesIn(string folder)
    {
        string manifest = Path.Combine(folder, AugmentCommand.ManifestFileName);
        if (File.Exists(manifest) && File.ReadLines(manifest).Skip(1).Any(line => line.Contains(",real,", StringComparison.Ordinal)))
        {
            throw new ArgumentException(
                $"--synthetic {folder} is an augmented data set with real images ({AugmentCommand.ManifestFileName}); pass a folder of synthetic images only, such as 'lipizzaner sample --out' writes.");
        }
    }

    private sealed record EvaluationSettings(int Folds, int Seed, int ImageSize, double Penalty, int Threads, bool Json);
}
