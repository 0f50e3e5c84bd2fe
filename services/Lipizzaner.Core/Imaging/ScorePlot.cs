using Lipizzaner.Core.IO;
using ScottPlot;

namespace Lipizzaner.Core.Imaging;

/// <summary>Draws a score (such as FID) over generations as a PNG line plot, one line per grid cell.</summary>
public static class ScorePlot
{
    public const int DefaultWidth = 800;

    public const int DefaultHeight = 500;

    /// <summary>
    /// Writes a line plot of <paramref name="seriesByCell"/> (cell name to (generation, value)
    /// points) to <paramref name="path"/>, replacing the file atomically. Points are drawn in
    /// generation order, lines in ordinal order of the cell names, and points whose value is NaN
    /// or infinite are left out. Text uses <see cref="PlotFonts.Family"/>; when that is null, the
    /// plot is drawn without text.
    /// </summary>
    public static void WritePng(
        string path,
        IReadOnlyDictionary<string, IReadOnlyList<(int Generation, double Value)>> seriesByCell,
        string yLabel,
        int width = DefaultWidth,
        int height = DefaultHeight)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, Render(seriesByCell, yLabel, width, height));
    }

    /// <summary>Returns the PNG encoding of the plot that <see cref="WritePng"/> writes.</summary>
    public static byte[] Render(
        IReadOnlyDictionary<string, IReadOnlyList<(int Generation, double Value)>> seriesByCell,
        string yLabel,
        int width = DefaultWidth,
        int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(seriesByCell);
        ArgumentNullException.ThrowIfNull(yLabel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);

        using var plot = new Plot();
        if (PlotFonts.Family is { } family)
        {
            plot.Font.Set(family);
        }

        foreach (string cell in seriesByCell.Keys.Order(StringComparer.Ordinal))
        {
            var points = seriesByCell[cell]
                .Where(point => double.IsFinite(point.Value))
                .OrderBy(point => point.Generation)
                .ToArray();
            double[] generations = points.Select(point => (double)point.Generation).ToArray();
            double[] values = points.Select(point => point.Value).ToArray();
            var line = plot.Add.Scatter(generations, values);
            line.LegendText = cell;
            line.MarkerSize = points.Length == 1 ? 5 : 0;
        }

        // Generations are whole numbers, so ticks such as 0.5 would mark nothing.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.XLabel("Generation");
        plot.YLabel(yLabel);
        if (seriesByCell.Count > 0)
        {
            plot.ShowLegend(Edge.Right);
        }

        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
