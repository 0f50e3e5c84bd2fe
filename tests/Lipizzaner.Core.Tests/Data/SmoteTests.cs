using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Randomness;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Core.Tests.Data;

public sealed class SmoteTests
{
    private const int Dimensions = 16;

    [Fact]
    public void Oversample_GivesExactlyTimesNPerClass()
    {
        var images = RandomImages(classCounts: [7, 5]);

        var result = Smote.Oversample(images, times: 3, neighbours: 5, new CellRandom(1));

        Assert.Equal(3 * 12, result.Count);
        Assert.Equal(3 * 7, result.Labels.Count(label => label == 0));
        Assert.Equal(3 * 5, result.Labels.Count(label => label == 1));
        Assert.Equal(images.Pixels, result.Pixels.AsSpan(0, images.Pixels.Length).ToArray());
    }

    [Fact]
    public void Oversample_SyntheticOnSameClassSegment()
    {
        var images = RandomImages(classCounts: [6, 4]);

        var result = Smote.Oversample(images, times: 4, neighbours: 2, new CellRandom(3));

        for (int s = images.Count; s < result.Count; s++)
        {
            var synthetic = result.Image(s);
            bool found = false;
            for (int a = 0; a < images.Count && !found; a++)
            {
                for (int b = 0; b < images.Count && !found; b++)
                {
                    if (a == b || images.Labels[a] != result.Labels[s] || images.Labels[b] != result.Labels[s])
                    {
                        continue;
                    }

                    found = OnSegment(synthetic, images.Image(a), images.Image(b));
                }
            }

            Assert.True(found, $"synthetic image {s} lies on no segment between two real images of class {result.Labels[s]}");
        }
    }

    [Fact]
    public void Oversample_AddsNoFillerImages()
    {
        var images = RandomImages(classCounts: [10]);

        var result = Smote.Oversample(images, times: 15, neighbours: 5, new CellRandom(4));

        Assert.All(result.Labels, label => Assert.Equal(0, label));
        // The original loader's fillers were near-uniform grey images; here every image keeps the spread of real data.
        for (int i = 0; i < result.Count; i++)
        {
            var image = result.Image(i).ToArray();
            Assert.True(image.Max() - image.Min() > 0.1f, $"image {i} is nearly uniform, like a filler");
        }
    }

    [Fact]
    public void Oversample_SameSeedSameImages_OtherSeedDiffers()
    {
        var images = RandomImages(classCounts: [8]);

        var first = Smote.Oversample(images, 3, 5, new CellRandom(9));
        var second = Smote.Oversample(images, 3, 5, new CellRandom(9));
        var other = Smote.Oversample(images, 3, 5, new CellRandom(10));

        Assert.Equal(first.Pixels, second.Pixels);
        Assert.NotEqual(first.Pixels, other.Pixels);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Oversample_TimesZeroOrOne_IsOff(int times)
    {
        var images = RandomImages(classCounts: [3]);

        Assert.Same(images, Smote.Oversample(images, times, 5, new CellRandom(1)));
    }

    [Fact]
    public void Oversample_ClassOfOneImage_IsAnError()
    {
        var images = RandomImages(classCounts: [4, 1]);

        var exception = Assert.Throws<InvalidOperationException>(() => Smote.Oversample(images, 2, 5, new CellRandom(1)));

        Assert.Contains("class 1", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NearestNeighbours_ClosestFirst()
    {
        // One-pixel images at 0, 0.1, 0.6 and 1: the nearest two of 0.6 are 1 and then 0.1 (0.4 and 0.5 away).
        var images = new LabelledImages([0f, 0.1f, 0.6f, 1f], [0, 0, 0, 0], 1);

        int[][] nearest = Smote.NearestNeighbours(images, [0, 1, 2, 3], 2);

        Assert.Equal([1, 2], nearest[0]);
        Assert.Equal([3, 1], nearest[2]);
        Assert.Equal([2, 1], nearest[3]);
    }

    [Fact]
    public void GaussianCopies_GivesTimesNClampedCopies()
    {
        var images = RandomImages(classCounts: [5, 3]);

        var result = GaussianCopies.Add(images, times: 4, mean: 0, std: 0.5, new CellRandom(2));
        var saturated = GaussianCopies.Add(images, times: 2, mean: 2, std: 0, new CellRandom(2));

        Assert.Equal(4 * 8, result.Count);
        Assert.Equal(images.Pixels, result.Pixels.AsSpan(0, images.Pixels.Length).ToArray());
        Assert.All(result.Pixels, value => Assert.InRange(value, -1f, 1f));
        Assert.Equal(images.Labels.Concat(images.Labels).Concat(images.Labels).Concat(images.Labels), result.Labels);
        Assert.Contains(result.Pixels.Skip(images.Pixels.Length), value => value is -1f or 1f);
        Assert.All(saturated.Pixels.Skip(images.Pixels.Length), value => Assert.Equal(1f, value));
    }

    [Fact]
    public void ImageOversampling_LogsCountsSeeded()
    {
        var images = RandomImages(classCounts: [6]);
        var settings = new DataLoaderSettings
        {
            GaussianAugmentationTimes = 2,
            GaussianAugmentationStd = 0.1,
            SmoteAugmentationTimes = 3,
        };
        var logger = new ListLogger();

        var first = ImageOversampling.Apply(images, settings, seed: 5, logger);
        var second = ImageOversampling.Apply(images, settings, seed: 5, new ListLogger());
        var other = ImageOversampling.Apply(images, settings, seed: 6, new ListLogger());

        Assert.Equal(3 * 2 * 6, first.Count);
        Assert.Equal(first.Pixels, second.Pixels);
        Assert.NotEqual(first.Pixels, other.Pixels);
        var messages = logger.Entries.Where(entry => entry.Level == LogLevel.Information).Select(entry => entry.Message).ToList();
        Assert.Contains(messages, message => message.Contains("6 -> 12", StringComparison.Ordinal));
        Assert.Contains(messages, message => message.Contains("12 -> 36", StringComparison.Ordinal));
    }

    /// <summary>Solves s = a + u·(b − a) for u by least squares and checks the fit and that 0 ≤ u ≤ 1.</summary>
    private static bool OnSegment(ReadOnlySpan<float> s, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0;
        double norm = 0;
        for (int p = 0; p < s.Length; p++)
        {
            dot += (s[p] - a[p]) * (double)(b[p] - a[p]);
            norm += (b[p] - a[p]) * (double)(b[p] - a[p]);
        }

        double u = dot / norm;
        if (u < -1e-6 || u > 1 + 1e-6)
        {
            return false;
        }

        for (int p = 0; p < s.Length; p++)
        {
            if (Math.Abs(a[p] + (u * (b[p] - a[p])) - s[p]) > 1e-5)
            {
                return false;
            }
        }

        return true;
    }

    private static LabelledImages RandomImages(int[] classCounts)
    {
        var random = new Random(12345);
        int count = classCounts.Sum();
        var pixels = new float[count * Dimensions];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (float)((random.NextDouble() * 2) - 1);
        }

        int[] labels = [.. classCounts.SelectMany((n, label) => Enumerable.Repeat(label, n))];
        return new LabelledImages(pixels, labels, Dimensions);
    }
}
