namespace Lipizzaner.Core.Data;

/// <summary>
/// Flat images with one class label each: image i is <c>Pixels[i * Dimensions .. (i + 1) * Dimensions]</c>.
/// </summary>
public sealed record LabelledImages(float[] Pixels, int[] Labels, int Dimensions)
{
    public int Count => Labels.Length;

    public ReadOnlySpan<float> Image(int index) => Pixels.AsSpan(index * Dimensions, Dimensions);

    /// <summary>
    /// Allocates room for <paramref name="times"/> × <see cref="Count"/> images with these images
    /// copied to the front, for oversampling. Throws, naming <paramref name="settingKey"/>, when the
    /// result would not fit in one .NET array.
    /// </summary>
    public (float[] Pixels, int[] Labels) AllocateGrown(int times, string settingKey)
    {
        long total = (long)times * Count;
        if (total * Dimensions > Array.MaxLength)
        {
            throw new InvalidOperationException(
                $"{total} images of {Dimensions} pixels do not fit in memory; lower {settingKey}");
        }

        var pixels = new float[total * Dimensions];
        var labels = new int[total];
        Pixels.CopyTo(pixels, 0);
        Labels.CopyTo(labels, 0);
        return (pixels, labels);
    }
}
