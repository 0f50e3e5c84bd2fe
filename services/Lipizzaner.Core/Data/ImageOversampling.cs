using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Randomness;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Core.Data;

/// <summary>
/// Applies the configured oversampling to a training set: Gaussian copies first, then SMOTE over the
/// result (the order of the original COVID loader), each logged with its before and after counts.
/// </summary>
public static class ImageOversampling
{
    /// <summary>Purpose tag of the oversampling stream; cells use small tags, so this one is far from theirs.</summary>
    private const ulong RandomPurpose = 101;

    /// <summary>Returns <paramref name="images"/> oversampled by <paramref name="settings"/>, seeded from <paramref name="seed"/>.</summary>
    public static LabelledImages Apply(LabelledImages images, DataLoaderSettings settings, int seed, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        var random = new CellRandom(CellRandom.DeriveSeed(seed, -1, RandomPurpose));
        var result = images;
        if (settings.GaussianAugmentationTimes > 1)
        {
            int before = result.Count;
            result = GaussianCopies.Add(
                result, settings.GaussianAugmentationTimes, settings.GaussianAugmentationMean,
                settings.GaussianAugmentationStd, random);
            logger.LogInformation(
                "Gaussian augmentation x{Times} (noise mean {Mean}, std {Std}): {Before} -> {After} training images",
                settings.GaussianAugmentationTimes, settings.GaussianAugmentationMean, settings.GaussianAugmentationStd,
                before, result.Count);
        }

        if (settings.SmoteAugmentationTimes > 1)
        {
            int before = result.Count;
            result = Smote.Oversample(result, settings.SmoteAugmentationTimes, settings.SmoteNeighbours, random);
            logger.LogInformation(
                "SMOTE x{Times} ({Neighbours} nearest neighbours per class): {Before} -> {After} training images",
                settings.SmoteAugmentationTimes, settings.SmoteNeighbours, before, result.Count);
        }

        return result;
    }
}
