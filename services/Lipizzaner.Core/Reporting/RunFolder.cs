using System.Globalization;
using System.Text;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Imaging;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Runtime;

namespace Lipizzaner.Core.Reporting;

/// <summary>
/// The files of one run: <c>config.yml</c>, <c>scores.csv</c>, <c>samples/</c>, <c>scores.png</c>,
/// <c>checkpoints/</c>, <c>mixture/</c> and <c>report.md</c>. Every file but <c>scores.csv</c> is
/// written atomically. Rows are appended to <c>scores.csv</c> one write each, because rewriting it
/// per row would cost time quadratic in the run length; a row cut short by a crash is dropped on resume.
/// </summary>
public sealed class RunFolder
{
    public const string ScoresHeader =
        "generation,cell,score,tvd,loss_g,loss_d,lr_g,lr_d,mixture_weights,mixture_accepted,replaced_g,replaced_d,neighbour_generations,seconds";

    private readonly Lock _gate = new();
    private readonly List<GenerationRecord> _records = [];
    private readonly GridTopology _topology;

    public RunFolder(string root, GridTopology topology)
    {
        Root = Path.GetFullPath(root);
        _topology = topology;
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string ConfigPath => Path.Combine(Root, "config.yml");

    public string ScoresPath => Path.Combine(Root, "scores.csv");

    public string ScorePlotPath => Path.Combine(Root, "scores.png");

    public string SamplesDirectory => Path.Combine(Root, "samples");

    public string CheckpointsDirectory => Path.Combine(Root, "checkpoints");

    public string MixtureDirectory => Path.Combine(Root, "mixture");

    public string ReportPath => Path.Combine(Root, "report.md");

    public IReadOnlyList<GenerationRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return _records.ToList();
            }
        }
    }

    public static string SampleFileName(int generation, string cellName) =>
        string.Create(CultureInfo.InvariantCulture, $"gen-{generation:D4}-cell-{cellName}.png");

    public void WriteConfig(string yaml) => AtomicFile.WriteAllText(ConfigPath, yaml);

    /// <summary>Keeps the rows of <c>scores.csv</c> up to each cell's resumed generation and drops the rest.</summary>
    public void LoadScoresForResume(IReadOnlyDictionary<int, int> resumedGeneration)
    {
        if (!File.Exists(ScoresPath))
        {
            return;
        }

        string[] lines = File.ReadAllLines(ScoresPath);
        var kept = lines
            .Skip(1)
            .Where(line => line.Length > 0)
            .Select(TryParseRow)
            .OfType<GenerationRecord>()
            .Where(record => record.Generation <= resumedGeneration.GetValueOrDefault(record.CellIndex))
            .ToList();
        lock (_gate)
        {
            _records.Clear();
            _records.AddRange(kept);
            var text = new StringBuilder();
            text.AppendLine(ScoresHeader);
            foreach (var record in kept)
            {
                text.AppendLine(FormatRow(record));
            }

            AtomicFile.WriteAllText(ScoresPath, text.ToString());
        }
    }

    /// <summary>Adds a row to the records and to <c>scores.csv</c>, creating the file with its header first.</summary>
    public void Append(GenerationRecord record)
    {
        lock (_gate)
        {
            if (!File.Exists(ScoresPath))
            {
                AtomicFile.WriteAllText(ScoresPath, ScoresHeader + "\n");
            }

            byte[] row = Encoding.UTF8.GetBytes(FormatRow(record) + "\n");
            using (var stream = new FileStream(ScoresPath, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                stream.Write(row);
            }

            _records.Add(record);
        }
    }

    /// <summary>Draws <c>scores.png</c>: the score over generations, one line per cell, with <paramref name="label"/> on the value axis.</summary>
    public void WriteScorePlot(string label = "FID")
    {
        var series = Records
            .Where(record => !double.IsNaN(record.Score))
            .GroupBy(record => _topology.CellName(record.CellIndex))
            .ToDictionary(
                group => $"cell {group.Key}",
                group => (IReadOnlyList<(int Generation, double Value)>)group
                    .OrderBy(record => record.Generation)
                    .Select(record => (record.Generation, record.Score))
                    .ToList());
        ScorePlot.WritePng(ScorePlotPath, series, label);
    }

    private string FormatRow(GenerationRecord record) => string.Join(
        ',',
        record.Generation.ToString(CultureInfo.InvariantCulture),
        _topology.CellName(record.CellIndex),
        Number(record.Score),
        Number(record.Tvd),
        Number(record.GeneratorLoss),
        Number(record.DiscriminatorLoss),
        Number(record.GeneratorLearningRate),
        Number(record.DiscriminatorLearningRate),
        string.Join(' ', record.MixtureWeights.Select(Number)),
        record.MixtureAccepted ? "1" : "0",
        record.GeneratorReplacements.ToString(CultureInfo.InvariantCulture),
        record.DiscriminatorReplacements.ToString(CultureInfo.InvariantCulture),
        string.Join(' ', record.NeighbourGenerations.Select(value => value.ToString(CultureInfo.InvariantCulture))),
        record.Seconds.ToString("F3", CultureInfo.InvariantCulture));

    /// <summary>Parses a row, or returns null for a row that a crash cut short.</summary>
    private GenerationRecord? TryParseRow(string line)
    {
        string[] fields = line.Split(',');
        if (fields.Length != ScoresHeader.Split(',').Length || !double.TryParse(fields[13], CultureInfo.InvariantCulture, out _))
        {
            return null;
        }

        string[] cell = fields[1].Split('-');
        return new GenerationRecord(
            int.Parse(fields[0], CultureInfo.InvariantCulture),
            _topology.Index(int.Parse(cell[0], CultureInfo.InvariantCulture), int.Parse(cell[1], CultureInfo.InvariantCulture)),
            ParseNumber(fields[2]),
            ParseNumber(fields[3]),
            ParseNumber(fields[4]),
            ParseNumber(fields[5]),
            ParseNumber(fields[6]),
            ParseNumber(fields[7]),
            fields[8].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ParseNumber).ToArray(),
            fields[9] == "1",
            int.Parse(fields[10], CultureInfo.InvariantCulture),
            int.Parse(fields[11], CultureInfo.InvariantCulture),
            fields[12].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(value => int.Parse(value, CultureInfo.InvariantCulture)).ToArray(),
            double.Parse(fields[13], CultureInfo.InvariantCulture));
    }

    /// <summary>Formats with round-trip precision, so a resumed run's rows equal an uninterrupted run's.</summary>
    private static string Number(double value) =>
        double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    private static double ParseNumber(string text) =>
        text.Length == 0 ? double.NaN : double.Parse(text, CultureInfo.InvariantCulture);
}
