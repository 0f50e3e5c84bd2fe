namespace Lipizzaner.Core.Grid;

/// <summary>
/// A W×H toroidal grid. Cell index <c>i = y * Width + x</c>; the neighbourhood of a cell is its
/// geometric Von Neumann neighbourhood on the torus, <c>((x ± 1) mod W, y)</c> and
/// <c>(x, (y ± 1) mod H)</c>, de-duplicated and without the cell itself. A 1×1 grid therefore has
/// no neighbours, a 2×2 grid two per cell, and any grid with W, H ≥ 3 four.
/// </summary>
public sealed class GridTopology
{
    private readonly int[][] _neighbours;

    public GridTopology(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Width = width;
        Height = height;
        _neighbours = new int[width * height][];
        for (int index = 0; index < _neighbours.Length; index++)
        {
            _neighbours[index] = ComputeNeighbours(index);
        }
    }

    public int Width { get; }

    public int Height { get; }

    public int CellCount => Width * Height;

    public (int X, int Y) Coordinates(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, CellCount);
        return (index % Width, index / Width);
    }

    public int Index(int x, int y) => Modulo(y, Height) * Width + Modulo(x, Width);

    /// <summary>Returns the neighbour indices of a cell, ascending, without the cell itself.</summary>
    public IReadOnlyList<int> Neighbours(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, CellCount);
        return _neighbours[index];
    }

    /// <summary>Returns "x-y", the cell's name in file names and logs.</summary>
    public string CellName(int index)
    {
        var (x, y) = Coordinates(index);
        return $"{x}-{y}";
    }

    private int[] ComputeNeighbours(int index)
    {
        var (x, y) = Coordinates(index);
        int[] candidates = [Index(x - 1, y), Index(x + 1, y), Index(x, y - 1), Index(x, y + 1)];
        return candidates.Where(candidate => candidate != index).Distinct().Order().ToArray();
    }

    private static int Modulo(int value, int modulus) => ((value % modulus) + modulus) % modulus;
}
