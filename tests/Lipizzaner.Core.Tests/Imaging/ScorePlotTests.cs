using Lipizzaner.Core.Imaging;
using Lipizzaner.Core.Tests.Data;
using SkiaSharp;

namespace Lipizzaner.Core.Tests.Imaging;

public sealed class ScorePlotTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static Dictionary<string, IReadOnlyList<(int Generation, double Value)>> TwoCells() => new()
    {
        ["cell 0"] = [(0, 310.5), (1, 250.0), (2, 190.25), (3, 150.0)],
        ["cell 1"] = [(0, 330.0), (2, 205.0), (1, 270.0), (3, 120.0)],
    };

    [Fact]
    public void WritePng_TwoCells_HasRequestedSize()
    {
        string path = Path.Combine(_folder.Path, "fid.png");

        ScorePlot.WritePng(path, TwoCells(), "FID", width: 640, height: 400);

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(640, bitmap.Width);
        Assert.Equal(400, bitmap.Height);
        Assert.Equal(SKColors.White, bitmap.GetPixel(0, 0));
        Assert.True(CountColoredPixels(bitmap) > 100, "no coloured line pixels were drawn");
        Assert.Equal(["fid.png"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void WritePng_DefaultSize_Is800By500()
    {
        string path = Path.Combine(_folder.Path, "fid.png");

        ScorePlot.WritePng(path, TwoCells(), "FID");

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(ScorePlot.DefaultWidth, bitmap.Width);
        Assert.Equal(ScorePlot.DefaultHeight, bitmap.Height);
    }

    [Fact]
    public void Render_DifferentYLabel_ChangesPixels()
    {
        // Without a usable font ScottPlot draws no text at all, and both images would be equal.
        Assert.True(PlotFonts.Family is not null, PlotFonts.MissingFontAdvice);

        byte[] fid = ScorePlot.Render(TwoCells(), "FID");
        byte[] score = ScorePlot.Render(TwoCells(), "Inception score");

        Assert.NotEqual(fid, score);
    }

    [Fact]
    public void Render_SameInput_IsDeterministic()
    {
        Assert.Equal(ScorePlot.Render(TwoCells(), "FID"), ScorePlot.Render(TwoCells(), "FID"));
    }

    [Fact]
    public void WritePng_NonFiniteAndSinglePoints_Writes()
    {
        var series = new Dictionary<string, IReadOnlyList<(int Generation, double Value)>>
        {
            ["diverged"] = [(0, double.NaN), (1, double.PositiveInfinity), (2, 400.0)],
            ["empty"] = [],
        };
        string path = Path.Combine(_folder.Path, "fid.png");

        ScorePlot.WritePng(path, series, "FID");

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(ScorePlot.DefaultWidth, bitmap.Width);
    }

    [Fact]
    public void WritePng_NoCells_WritesEmptyPlot()
    {
        string path = Path.Combine(_folder.Path, "fid.png");

        ScorePlot.WritePng(path, new Dictionary<string, IReadOnlyList<(int Generation, double Value)>>(), "FID");

        using SKBitmap bitmap = Decode(path);
        Assert.Equal(ScorePlot.DefaultHeight, bitmap.Height);
    }

    private static SKBitmap Decode(string path)
    {
        SKBitmap? bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        return bitmap;
    }

    // Lines are drawn in ScottPlot's palette colours, while axes, grid and text are gray or black.
    private static int CountColoredPixels(SKBitmap bitmap)
    {
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                SKColor color = bitmap.GetPixel(x, y);
                int spread = Math.Max(color.Red, Math.Max(color.Green, color.Blue))
                    - Math.Min(color.Red, Math.Min(color.Green, color.Blue));
                if (spread > 60)
                {
                    count++;
                }
            }
        }

        return count;
    }
}
