using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>Resizes flat square grayscale images (N, side·side) to another side length.</summary>
public static class ImageResize
{
    /// <summary>
    /// Returns <paramref name="images"/> resized to <paramref name="targetSide"/>: area averaging when
    /// shrinking, bilinear interpolation when enlarging. Returns the input itself when the size matches.
    /// </summary>
    public static Tensor ToSide(Tensor images, int targetSide)
    {
        long side = (long)Math.Round(Math.Sqrt(images.shape[1]));
        if (side * side != images.shape[1])
        {
            throw new ArgumentException($"Images of {images.shape[1]} pixels are not square.", nameof(images));
        }

        if (side == targetSide)
        {
            return images;
        }

        using var scope = torch.NewDisposeScope();
        var square = images.reshape(-1, 1, side, side);
        var resized = targetSide < side
            ? nn.functional.interpolate(square, [targetSide, targetSide], mode: InterpolationMode.Area)
            : nn.functional.interpolate(square, [targetSide, targetSide], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.reshape(-1, (long)targetSide * targetSide).MoveToOuterDisposeScope();
    }
}
