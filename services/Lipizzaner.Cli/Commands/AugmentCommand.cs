using System.CommandLine;
using System.Globalization;
using System.Text;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary>
/// <c>lipizzaner augment</c>: writes an augmented data set folder, the real images copied unchanged
/// plus synthetic images drawn from a saved mixture, and a manifest that records which file is which.
/// </summary>
public static class AugmentCommand
{
    public const string ManifestFileName = "manifest.csv";
    public const string ManifestHeader = "file,kind,source";
    public const string RealPrefix = "real-";
    public const string SyntheticPrefix = "synthetic-";

    public static Command Create()
    {
        var realOption = new Option<DirectoryInfo>("--real")
        {
            Description = "Folder of the real JPEG or PNG images of one class; each file is copied unchanged.",
            Required = true,
        };
        var mixtureOption = SampleCommand.MixtureOption();
        var countOption = new Option<int>("--count", "-n")
        {
            Description = "Number of synthetic images to add (at least 1).",
            Required = true,
        };
        var outOption = new Option<DirectoryInfo>("--out")
        {
            Description = "New or empty folder for the augmented data set.",
            Required = true,
        };
        var seedOption = SampleCommand.SeedOption();
        var deviceOption = SampleCommand.DeviceOption();

        var command = new Command(
            "augment",
            $"Write an augmented data set: the real images copied unchanged ({RealPrefix}*), N synthetic 8-bit grayscale PNG images from a mixture ({SyntheticPrefix}*.png), and {ManifestFileName} naming the kind and source of each file.")
        {
            realOption, mixtureOption, countOption, outOption, seedOption, deviceOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => Task.FromResult(Augment(
            parseResult.GetValue(realOption)!,
            parseResult.GetValue(mixtureOption)!,
            parseResult.GetValue(countOption),
            parseResult.GetValue(outOption)!,
            parseResult.GetValue(seedOption),
            parseResult.GetValue(deviceOption)!,
            logger,
            cancellationToken))));
        return command;
    }

    private static int Augment(
        DirectoryInfo real, DirectoryInfo mixture, int count, DirectoryInfo output, int seed, string device, ILogger logger,
        CancellationToken cancellationToken)
    {
        var realFiles = ListRealImages(real.FullName);
        if (output.Exists && output.EnumerateFileSystemInfos().Any())
        {
            throw new ArgumentException($"--out {output.FullName} already exists and is not empty; choose a new folder.");
        }

        if (Path.GetFullPath(real.FullName).TrimEnd('/') == Path.GetFullPath(output.FullName).TrimEnd('/'))
        {
            throw new ArgumentException("--out must differ from --real.");
        }

        var synthetic = SampleCommand.WriteImages(mixture.FullName, count, output.FullName, seed, device, SyntheticPrefix, cancellationToken);
        var manifest = new StringBuilder();
        manifest.Append(ManifestHeader).Append('\n');
        foreach (string file in realFiles)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = RealPrefix + Path.GetFileName(file);
            File.Copy(file, Path.Combine(output.FullName, name));
            manifest.Append(CultureInfo.InvariantCulture, $"{Csv(name)},real,{Csv(Path.GetFullPath(file))}\n");
        }

        string mixturePath = Path.GetFullPath(mixture.FullName);
        foreach (var (file, cell) in synthetic.Files)
        {
            manifest.Append(CultureInfo.InvariantCulture, $"{Csv(file)},synthetic,{Csv($"{mixturePath} generator of cell {cell}, seed {seed}")}\n");
        }

        AtomicFile.WriteAllText(Path.Combine(output.FullName, ManifestFileName), manifest.ToString());
        logger.LogInformation(
            "Wrote {Real} real and {Synthetic} synthetic images ({Side}x{Side}) and {Manifest} to {Directory}",
            realFiles.Count, synthetic.Files.Count, synthetic.ImageSide, synthetic.ImageSide, ManifestFileName, output.FullName);
        return LipizzanerCommand.Success;
    }

    /// <summary>Returns the image files directly in <paramref name="folder"/>, in ordinal order.</summary>
    private static List<string> ListRealImages(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"--real folder '{folder}' does not exist.");
        }

        var files = Directory.EnumerateFiles(folder)
            .Where(ImageFolderDataset.IsImageFile)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw new InvalidDataException(
                $"--real folder '{folder}' contains no .jpg, .jpeg or .png file directly; augment one class at a time, "
                + "passing the class's own folder.");
        }

        return files;
    }

    /// <summary>Quotes a CSV field that contains a comma, a quote or a line break (RFC 4180).</summary>
    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
