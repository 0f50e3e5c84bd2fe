using Lipizzaner.Core.Grid;

namespace Lipizzaner.Core.Tests.Grid;

public sealed class GridShapeTests
{
    [Theory]
    [InlineData(1, 2.0, 1, 1)]
    [InlineData(2, 2.0, 2, 1)]
    [InlineData(3, 2.0, 2, 1)]
    [InlineData(4, 2.0, 2, 2)]
    [InlineData(8, 2.0, 4, 2)]
    [InlineData(24, 2.0, 6, 4)]
    [InlineData(36, 2.0, 6, 6)]
    [InlineData(324, 1.0, 18, 18)]
    [InlineData(7, 1.0, 2, 2)]
    [InlineData(12, 1.5, 4, 3)]
    [InlineData(12, 4.0, 4, 3)]
    public void Largest_KnownCases(int capacity, double ratio, int width, int height)
    {
        Assert.Equal((width, height), GridShape.Largest(capacity, ratio));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void Largest_UpTo400_IsOptimalAndWithinBounds(double ratio)
    {
        for (int capacity = 1; capacity <= 400; capacity++)
        {
            var (width, height) = GridShape.Largest(capacity, ratio);

            Assert.True(width * height <= capacity, $"{capacity}: {width}x{height} exceeds the capacity");
            Assert.True(width >= height, $"{capacity}: {width}x{height} is taller than wide");
            Assert.True(width <= ratio * height, $"{capacity}: {width}x{height} exceeds the aspect ratio {ratio}");

            // Brute force over every allowed shape: none is larger, and none of equal size is squarer.
            for (int h = 1; h <= capacity; h++)
            {
                for (int w = h; w * h <= capacity && w <= ratio * h; w++)
                {
                    Assert.True(w * h <= width * height, $"{capacity}: {w}x{h} beats {width}x{height}");
                    if (w * h == width * height)
                    {
                        Assert.True(w - h >= width - height, $"{capacity}: {w}x{h} is squarer than {width}x{height}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Largest_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GridShape.Largest(0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => GridShape.Largest(4, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => GridShape.Largest(4, double.NaN));
    }
}
