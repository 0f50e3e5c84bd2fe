using System.Diagnostics;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// Creates the scorers of a run for <c>trainer.params.score.type</c>. The MNIST FID compares with the
/// first training images, as many as the scorer's sample count. KID and the ResNet18 FID compare with
/// the ResNet18 features of the first real images, as many as the largest configured sample count,
/// which are extracted once and shared by every scorer.
/// </summary>
public sealed class RunScorers : IDisposable
{
    private const ulong KidSubsetPurpose = 7;

    private readonly LipizzanerConfig _config;
    private readonly RunResources _resources;
    private readonly Tensor? _realFeatures;

    private RunScorers(LipizzanerConfig config, RunResources resources, Tensor? realFeatures)
    {
        _config = config;
        _resources = resources;
        _realFeatures = realFeatures;
    }

    public ScoreKind Kind => _config.Trainer.Params.Score.Type;

    /// <summary>
    /// Returns the scorers of a run, or null when scoring is off or the resources hold no model for the
    /// score type. For the ResNet18 scores this extracts the features of the first real images, as many
    /// as the largest configured sample count.
    /// </summary>
    public static RunScorers? Create(LipizzanerConfig config, RunResources resources, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(resources);
        var score = config.Trainer.Params.Score;
        if (!score.Enabled)
        {
            return null;
        }

        switch (score.Type)
        {
            case ScoreKind.Fid when resources.Classifier is not null:
            case ScoreKind.InceptionScore when resources.OnnxClassifier is not null:
                return new RunScorers(config, resources, null);
            case ScoreKind.Kid or ScoreKind.ResNetFid when resources.Features is not null:
                int largest = Math.Max(score.ScoreSampleSize, score.FinalSampleSize);
                if (config.Trainer.Params.OptimizeMixture.EsGenerations > 0)
                {
                    largest = Math.Max(largest, config.Trainer.Params.OptimizeMixture.SampleSize);
                }

                var real = resources.ScoringImages;
                int count = (int)Math.Min(largest, real.shape[0]);
                long started = Stopwatch.GetTimestamp();
                var features = resources.Features.Extract(real.narrow(0, 0, count));
                logger.LogInformation("ResNet18 features of {Count} real images in {Seconds:F1} s", count, Stopwatch.GetElapsedTime(started).TotalSeconds);
                return new RunScorers(config, resources, features);
            default:
                return null;
        }
    }

    /// <summary>
    /// Creates a scorer for <paramref name="sampleCount"/> generated images: the MNIST FID against as many
    /// training images, KID and the ResNet18 FID against all real images that <see cref="Create"/> extracted.
    /// </summary>
    public IImageScorer CreateScorer(int sampleCount)
    {
        switch (Kind)
        {
            case ScoreKind.Fid:
            {
                var classifier = _resources.Classifier!;
                var real = _resources.ScoringImages;
                int count = (int)Math.Min(sampleCount, real.shape[0]);
                using var scope = torch.NewDisposeScope();
                return new FidScorer(classifier, FidScorer.Statistics(classifier, real.narrow(0, 0, count)));
            }

            case ScoreKind.InceptionScore:
                return new InceptionScorer(_resources.OnnxClassifier!);
            default:
            {
                var score = _config.Trainer.Params.Score;
                var kid = new KidSettings(score.KidSubsets, score.KidSubsetSize, CellRandom.DeriveSeed(_config.General.Seed, 0, KidSubsetPurpose));
                return new ResNetFeatureScorer(Kind, _resources.Features!, _realFeatures!, kid);
            }
        }
    }

    public void Dispose() => _realFeatures?.Dispose();
}
