namespace Lipizzaner.Core.Grid;

/// <summary>Chooses the grid for a number of available cell slots, for example the capacity of registered workers.</summary>
public static class GridShape
{
    /// <summary>
    /// Returns the W×H grid with the most cells that fits in <paramref name="capacity"/>, with
    /// W ≥ H and W / H ≤ <paramref name="maxAspectRatio"/>; among grids of equal size the most square
    /// wins. For 24 slots and ratio 2 that is 6×4, where the original Lipizzaner's rule
    /// (W = round(√N), H = ⌊N / W⌋) gives 5×4.
    /// </summary>
    public static (int Width, int Height) Largest(int capacity, double maxAspectRatio)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (!(maxAspectRatio >= 1) || double.IsInfinity(maxAspectRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(maxAspectRatio), maxAspectRatio, "The maximum aspect ratio W/H must be a finite number of at least 1.");
        }

        (int Width, int Height) best = (1, 1);
        for (int height = 1; (long)height * height <= capacity; height++)
        {
            int width = (int)Math.Min(capacity / height, Math.Floor(maxAspectRatio * height));
            if (width < height)
            {
                continue;
            }

            long area = (long)width * height;
            long bestArea = (long)best.Width * best.Height;

            // Heights rise through the loop, so on equal area the later, squarer grid replaces the earlier.
            if (area >= bestArea)
            {
                best = (width, height);
            }
        }

        return best;
    }
}
