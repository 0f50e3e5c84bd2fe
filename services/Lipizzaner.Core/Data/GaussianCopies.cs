using Lipizzaner.Core.Randomness;

namespace Lipizzaner.Core.Data;

/// <summary>Gaussian augmentation: noisy copies of every image, with the noise clamped to the [-1, 1] pixel range.</summary>
public static class GaussianCopies
{
    /// <summary>
    /// Returns the originals followed by <paramref name="times"/> − 1 copies of each, every pixel plus
    /// noise drawn from N(<paramref name="mean"/>, <paramref name="std"/>²) and clamped to [-1, 1];
    /// <paramref name="times"/> × N images in all. <paramref name="times"/> 0 or 1 returns
    /// <paramref name="images"/> unchanged.
    /// </summary>
    public static LabelledImages Add(LabelledImages images, int times, double mean, double std, CellRandom random)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        ArgumentOutOfRangeException.ThrowIfNegative(std);
        if (times <= 1 || images.Count == 0)
        {
            return images;
        }

        int d = images.Dimensions;
        var (pixels, labels) = images.AllocateGrown(times, "dataloader.gaussian_augmentation_times");
        int next = images.Count;
        for (int copy = 1; copy < times; copy++)
        {
            for (int i = 0; i < images.Count; i++)
            {
                ReadOnlySpan<float> source = images.Image(i);
                var target = pixels.AsSpan(next * d, d);
                for (int p = 0; p < d; p++)
                {
                    double noisy = source[p] + mean + (std * random.NextGaussian());
                    target[p] = (float)Math.Clamp(noisy, -1.0, 1.0);
                }

                labels[next++] = images.Labels[i];
            }
        }

        return new LabelledImages(pixels, labels, d);
    }
}
