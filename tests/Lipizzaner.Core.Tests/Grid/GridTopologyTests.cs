using Lipizzaner.Core.Grid;

namespace Lipizzaner.Core.Tests.Grid;

public sealed class GridTopologyTests
{
    [Fact]
    public void Neighbours_OneByOne_AreEmpty()
    {
        var grid = new GridTopology(1, 1);

        Assert.Empty(grid.Neighbours(0));
    }

    [Fact]
    public void Neighbours_TwoByTwo_AreTwoDistinctCells()
    {
        var grid = new GridTopology(2, 2);

        Assert.Equal([1, 2], grid.Neighbours(0));
        Assert.Equal([0, 3], grid.Neighbours(1));
        Assert.Equal([0, 3], grid.Neighbours(2));
        Assert.Equal([1, 2], grid.Neighbours(3));
    }

    [Theory]
    [InlineData(0, new[] { 1, 2, 3, 6 })]
    [InlineData(1, new[] { 0, 2, 4, 7 })]
    [InlineData(2, new[] { 0, 1, 5, 8 })]
    [InlineData(3, new[] { 0, 4, 5, 6 })]
    [InlineData(4, new[] { 1, 3, 5, 7 })]
    [InlineData(5, new[] { 2, 3, 4, 8 })]
    [InlineData(6, new[] { 0, 3, 7, 8 })]
    [InlineData(7, new[] { 1, 4, 6, 8 })]
    [InlineData(8, new[] { 2, 5, 6, 7 })]
    public void Neighbours_ThreeByThree_AreGeometricTorus(int cell, int[] expected)
    {
        var grid = new GridTopology(3, 3);

        Assert.Equal(expected, grid.Neighbours(cell));
    }

    [Fact]
    public void Neighbours_FourByThree_WrapEachAxisSeparately()
    {
        var grid = new GridTopology(4, 3);

        // Cell 0 is (0, 0): left (3, 0) = 3, right (1, 0) = 1, up (0, 2) = 8, down (0, 1) = 4.
        Assert.Equal([1, 3, 4, 8], grid.Neighbours(0));

        // Cell 6 is (2, 1): (1, 1) = 5, (3, 1) = 7, (2, 0) = 2, (2, 2) = 10.
        Assert.Equal([2, 5, 7, 10], grid.Neighbours(6));

        // Cell 11 is (3, 2): (2, 2) = 10, (0, 2) = 8, (3, 1) = 7, (3, 0) = 3.
        Assert.Equal([3, 7, 8, 10], grid.Neighbours(11));
    }

    [Fact]
    public void Neighbours_AnyGrid_AreSymmetricAndExcludeSelf()
    {
        foreach (var (width, height) in new[] { (1, 4), (2, 3), (4, 3), (5, 2), (6, 6) })
        {
            var grid = new GridTopology(width, height);
            for (int cell = 0; cell < grid.CellCount; cell++)
            {
                Assert.DoesNotContain(cell, grid.Neighbours(cell));
                foreach (int neighbour in grid.Neighbours(cell))
                {
                    Assert.Contains(cell, grid.Neighbours(neighbour));
                }
            }
        }
    }

    [Fact]
    public void Coordinates_RoundTripThroughIndex()
    {
        var grid = new GridTopology(4, 3);

        for (int cell = 0; cell < grid.CellCount; cell++)
        {
            var (x, y) = grid.Coordinates(cell);
            Assert.Equal(cell, grid.Index(x, y));
            Assert.Equal(cell, y * 4 + x);
        }

        Assert.Equal("3-2", grid.CellName(11));
    }
}
