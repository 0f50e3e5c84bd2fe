namespace Lipizzaner.Core.Data;

/// <summary>
/// Flat images with one class label each: image i is <c>Pixels[i * Dimensions .. (i + 1) * Dimensions]</c>.
/// </summary>
public sealed record LabelledImages(float[] Pixels, int[] Labels, int Dimensions)
{
    public int Count => Labels.Length;

    public ReadOnlySpan<float> Image(int index) => Pixels.AsSpan(index * Dimensions, Dimensions);
}
