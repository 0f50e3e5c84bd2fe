using Lipizzaner.Core.Randomness;

namespace Lipizzaner.Core.Data;

/// <summary>
/// SMOTE (synthetic minority oversampling) per class. A synthetic image is x + u·(x_nn − x), where x is an
/// image of the class drawn uniformly, x_nn one of its nearest neighbours in the same class (Euclidean
/// distance in pixel space), and u uniform in [0, 1). Every class grows by the same factor, so no
/// placeholder class is needed and none ends up in the result.
/// </summary>
public static class Smote
{
    /// <summary>
    /// Returns the originals followed by synthetic images, <paramref name="times"/> × N images in all
    /// (each class grows to <paramref name="times"/> × its own count). <paramref name="times"/> 0 or 1
    /// returns <paramref name="images"/> unchanged.
    /// </summary>
    /// <exception cref="InvalidOperationException">A class to oversample has fewer than 2 images.</exception>
    public static LabelledImages Oversample(LabelledImages images, int times, int neighbours, CellRandom random)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbours, 1);
        if (times <= 1 || images.Count == 0)
        {
            return images;
        }

        int d = images.Dimensions;
        var (pixels, labels) = images.AllocateGrown(times, "dataloader.smote_augmentation_times");
        int next = images.Count;

        foreach (var group in Enumerable.Range(0, images.Count).GroupBy(i => images.Labels[i]).OrderBy(g => g.Key))
        {
            int[] members = [.. group];
            if (members.Length < 2)
            {
                throw new InvalidOperationException(
                    $"SMOTE needs at least 2 images of each class, but class {group.Key} has {members.Length}; "
                    + "add images or set dataloader.smote_augmentation_times to 0");
            }

            int k = Math.Min(neighbours, members.Length - 1);
            int[][] nearest = NearestNeighbours(images, members, k);
            int synthetic = (times - 1) * members.Length;
            for (int s = 0; s < synthetic; s++)
            {
                int a = random.NextInt(members.Length);
                int b = nearest[a][random.NextInt(k)];
                float u = (float)random.NextDouble();
                ReadOnlySpan<float> x = images.Image(members[a]);
                ReadOnlySpan<float> y = images.Image(b);
                var target = pixels.AsSpan(next * d, d);
                for (int p = 0; p < d; p++)
                {
                    target[p] = x[p] + (u * (y[p] - x[p]));
                }

                labels[next++] = group.Key;
            }
        }

        return new LabelledImages(pixels, labels, d);
    }

    /// <summary>
    /// Returns, for each member, the data-set indices of its <paramref name="k"/> nearest other members,
    /// nearest first; equal distances are ordered by index, so the result is deterministic.
    /// </summary>
    public static int[][] NearestNeighbours(LabelledImages images, int[] members, int k)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(members);
        int n = members.Length;
        var distances = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = images.Image(members[i]);
            for (int j = i + 1; j < n; j++)
            {
                ReadOnlySpan<float> y = images.Image(members[j]);
                double sum = 0;
                for (int p = 0; p < x.Length; p++)
                {
                    double difference = x[p] - y[p];
                    sum += difference * difference;
                }

                distances[i, j] = sum;
                distances[j, i] = sum;
            }
        }

        var result = new int[n][];
        for (int i = 0; i < n; i++)
        {
            int row = i;
            result[i] = [.. Enumerable.Range(0, n)
                .Where(j => j != row)
                .OrderBy(j => distances[row, j])
                .ThenBy(j => members[j])
                .Take(k)
                .Select(j => members[j])];
        }

        return result;
    }
}
