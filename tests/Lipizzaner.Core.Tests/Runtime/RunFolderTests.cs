using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;

namespace Lipizzaner.Core.Tests.Runtime;

public sealed class RunFolderTests : IDisposable
{
    private readonly TemporaryDirectory _temporary = new();

    [Fact]
    public void Append_WritesHeaderThenOneRowEach()
    {
        var folder = new RunFolder(_temporary.Path, new GridTopology(2, 1));

        folder.Append(Record(1, 0, 512.25));
        folder.Append(Record(1, 1, double.NaN));

        string[] lines = File.ReadAllLines(folder.ScoresPath);
        Assert.Equal(RunFolder.ScoresHeader, lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("1,0-0,512.25,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("1,1-0,,", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void LoadScoresForResume_DropsLaterAndTruncatedRows()
    {
        var topology = new GridTopology(2, 1);
        var folder = new RunFolder(_temporary.Path, topology);
        folder.Append(Record(1, 0, 500));
        folder.Append(Record(1, 1, 501));
        folder.Append(Record(2, 0, 400));
        folder.Append(Record(2, 1, 401));
        File.AppendAllText(folder.ScoresPath, "3,0-0,300.5,0.1,0.6");

        var resumed = new RunFolder(_temporary.Path, topology);
        resumed.LoadScoresForResume(new Dictionary<int, int> { [0] = 2, [1] = 1 });

        Assert.Equal([(1, 0), (1, 1), (2, 0)], resumed.Records.Select(r => (r.Generation, r.CellIndex)));
        string[] lines = File.ReadAllLines(resumed.ScoresPath);
        Assert.Equal(4, lines.Length);
        Assert.Equal(400, double.Parse(lines[3].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Rows_RoundTripExactly()
    {
        var topology = new GridTopology(1, 1);
        var folder = new RunFolder(_temporary.Path, topology);
        var original = Record(7, 0, 123.45678901234567) with { GeneratorLearningRate = 0.00019999876543210 };
        folder.Append(original);

        var reloaded = new RunFolder(_temporary.Path, topology);
        reloaded.LoadScoresForResume(new Dictionary<int, int> { [0] = 7 });

        var record = Assert.Single(reloaded.Records);
        Assert.Equal(original.Score, record.Score);
        Assert.Equal(original.GeneratorLearningRate, record.GeneratorLearningRate);
        Assert.Equal(original.MixtureWeights, record.MixtureWeights);
    }

    public void Dispose() => _temporary.Dispose();

    private static GenerationRecord Record(int generation, int cell, double fid) => new(
        generation, cell, fid, 0.25, 0.7, 1.3, 0.0002, 0.0002, [0.5, 0.5], true, 1, 0, [generation - 1], 1.5);
}
