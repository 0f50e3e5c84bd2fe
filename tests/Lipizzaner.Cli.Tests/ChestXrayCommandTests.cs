using System.Buffers.Binary;
using System.Text.Json;
using Lipizzaner.Cli.Commands;

namespace Lipizzaner.Cli.Tests;

/// <summary>The chest X-ray workflow on the command line: train on an image folder, sample, augment, evaluate.</summary>
public sealed class ChestXrayCommandTests : IClassFixture<ChestXrayCommandTests.TrainedMixture>, IDisposable
{
    private readonly TrainedMixture _trained;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lipizzaner-cli-tests", Guid.NewGuid().ToString("N"));

    public ChestXrayCommandTests(TrainedMixture trained)
    {
        _trained = trained;
        Directory.CreateDirectory(_directory);
    }

    [Fact]
    public void Train_ImageFolderRun_WritesKidScores()
    {
        string[] lines = File.ReadAllLines(Path.Combine(_trained.Run, "scores.csv"));

        Assert.StartsWith("generation,cell,score,", lines[0], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
        Assert.All(lines.Skip(1), line => Assert.NotEqual("", line.Split(',')[2]));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_trained.Run, "mixture", "mixture.json")));
        Assert.Equal("kid", manifest.RootElement.GetProperty("score_type").GetString());
        Assert.Contains("KID", _trained.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sample_WritesEightBitGrayPngAtTrainingSize()
    {
        string images = Path.Combine(_directory, "samples");

        var (exitCode, output) = await CommandRunner.RunAsync(
            "sample", "--mixture", Path.Combine(_trained.Run, "mixture"), "--count", "3", "--out", images);

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        string[] files = Directory.GetFiles(images, "*.png");
        Assert.Equal(3, files.Length);
        foreach (string file in files)
        {
            var header = PngHeader.Read(file);
            Assert.Equal(28, header.Width);
            Assert.Equal(28, header.Height);
            Assert.Equal(8, header.BitDepth);
            Assert.Equal(0, header.ColourType);
        }
    }

    [Fact]
    public async Task Augment_WritesRealSyntheticAndManifest()
    {
        string output = Path.Combine(_directory, "augmented");

        var (exitCode, printed) = await CommandRunner.RunAsync(
            "augment", "--real", _trained.Images, "--mixture", Path.Combine(_trained.Run, "mixture"), "--count", "5", "--out", output, "--seed", "2");

        Assert.True(exitCode == LipizzanerCommand.Success, printed);
        string[] realSources = Directory.GetFiles(_trained.Images).Order(StringComparer.Ordinal).ToArray();
        string[] lines = File.ReadAllLines(Path.Combine(output, AugmentCommand.ManifestFileName));
        Assert.Equal(AugmentCommand.ManifestHeader, lines[0]);
        Assert.Equal(realSources.Length + 5, lines.Length - 1);
        var rows = lines.Skip(1).Select(line => line.Split(',')).ToList();
        Assert.Equal(realSources.Length, rows.Count(row => row[1] == "real"));
        Assert.Equal(5, rows.Count(row => row[1] == "synthetic"));
        foreach (string source in realSources)
        {
            string copy = Path.Combine(output, AugmentCommand.RealPrefix + Path.GetFileName(source));
            Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
            Assert.Contains(rows, row => row[0] == Path.GetFileName(copy) && row[2] == source);
        }

        foreach (var row in rows.Where(row => row[1] == "synthetic"))
        {
            Assert.StartsWith(AugmentCommand.SyntheticPrefix, row[0], StringComparison.Ordinal);
            var header = PngHeader.Read(Path.Combine(output, row[0]));
            Assert.Equal(28, header.Width);
            Assert.Equal(0, header.ColourType);
        }
    }

    [Fact]
    public async Task Augment_NonEmptyOutput_IsRejected()
    {
        string output = Path.Combine(_directory, "used");
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, "kept.txt"), "kept");

        var (exitCode, error) = await CommandRunner.RunAsync(
            "augment", "--real", _trained.Images, "--mixture", Path.Combine(_trained.Run, "mixture"), "--count", "2", "--out", output);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("not empty", error, StringComparison.Ordinal);
        Assert.Equal(["kept.txt"], Directory.GetFiles(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task EvaluateAugmentation_ReportsBothClassifiersAndTests()
    {
        string synthetic = Path.Combine(_directory, "synthetic");
        var (sampleExit, sampleOutput) = await CommandRunner.RunAsync(
            "sample", "--mixture", Path.Combine(_trained.Run, "mixture"), "--count", "6", "--out", synthetic);
        Assert.True(sampleExit == LipizzanerCommand.Success, sampleOutput);

        var (exitCode, output, json) = await CommandRunner.RunWithStandardOutputAsync(
            "evaluate-augmentation", "--positive", _trained.Images, "--negative", _trained.Negatives, "--synthetic", synthetic,
            "--folds", "3", "--seed", "1", "--threads", "1", "--json");

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        using var report = JsonDocument.Parse(json);
        var root = report.RootElement;
        Assert.Equal(TrainedMixture.ImageCount, root.GetProperty("Positives").GetInt32());
        Assert.Equal(TrainedMixture.ImageCount, root.GetProperty("Negatives").GetInt32());
        Assert.Equal(6, root.GetProperty("Synthetic").GetInt32());
        var folds = root.GetProperty("Folds").EnumerateArray().ToList();
        Assert.Equal(3, folds.Count);
        Assert.Equal(2 * TrainedMixture.ImageCount, folds.Sum(fold => fold.GetProperty("Test").GetInt32()));
        foreach (string metric in new[] { "RealAccuracy", "AugmentedAccuracy", "RealAuc", "AugmentedAuc" })
        {
            Assert.All(folds, fold => Assert.InRange(fold.GetProperty(metric).GetDouble(), 0, 1));
        }

        double p = root.GetProperty("Auc").GetProperty("Test").GetProperty("P").GetDouble();
        Assert.InRange(p, 0, 1);
    }

    [Fact]
    public async Task EvaluateAugmentation_AugmentedFolder_IsRejected()
    {
        string output = Path.Combine(_directory, "augmented");
        var (augmentExit, augmentOutput) = await CommandRunner.RunAsync(
            "augment", "--real", _trained.Images, "--mixture", Path.Combine(_trained.Run, "mixture"), "--count", "2", "--out", output);
        Assert.True(augmentExit == LipizzanerCommand.Success, augmentOutput);

        var (exitCode, error) = await CommandRunner.RunAsync(
            "evaluate-augmentation", "--positive", _trained.Images, "--negative", _trained.Negatives, "--synthetic", output);

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("synthetic images only", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScoreImages_KidOfSamplesAgainstRealImages()
    {
        string samples = Path.Combine(_directory, "kid-samples");
        var (sampleExit, sampleOutput) = await CommandRunner.RunAsync(
            "sample", "--mixture", Path.Combine(_trained.Run, "mixture"), "--count", "8", "--out", samples);
        Assert.True(sampleExit == LipizzanerCommand.Success, sampleOutput);

        var (exitCode, output, json) = await CommandRunner.RunWithStandardOutputAsync(
            "score-images", "--fake", samples, "--real", _trained.Images, "--kid-subsets", "5", "--kid-subset-size", "4", "--json");
        var (selfExit, selfOutput, selfJson) = await CommandRunner.RunWithStandardOutputAsync(
            "score-images", "--fake", _trained.Images, "--real", _trained.Images, "--image-size", "28", "--kid-subsets", "5", "--kid-subset-size", "4", "--json");

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        Assert.True(selfExit == LipizzanerCommand.Success, selfOutput);
        using var report = JsonDocument.Parse(json);
        using var self = JsonDocument.Parse(selfJson);
        Assert.Equal("kid", report.RootElement.GetProperty("type").GetString());
        Assert.Equal(8, report.RootElement.GetProperty("generated").GetInt32());
        Assert.Equal(TrainedMixture.ImageCount, report.RootElement.GetProperty("real").GetInt32());
        Assert.Equal(28, report.RootElement.GetProperty("image_size").GetInt32());
        Assert.False(report.RootElement.GetProperty("higher_is_better").GetBoolean());
        double generated = report.RootElement.GetProperty("score").GetDouble();
        double realAgainstItself = self.RootElement.GetProperty("score").GetDouble();
        Assert.True(generated > Math.Abs(realAgainstItself), $"KID of 2-generation samples {generated}, of the real images against themselves {realAgainstItself}");
    }

    [Fact]
    public async Task ScoreImages_FidOnSmallFolders_PointsToKid()
    {
        var (exitCode, error) = await CommandRunner.RunAsync(
            "score-images", "--fake", _trained.Images, "--real", _trained.Negatives, "--type", "fid_resnet", "--image-size", "28");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("more than 512 samples", error, StringComparison.Ordinal);
        Assert.Contains("kid", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScoreImages_InceptionScoreOfOnnxClassifier()
    {
        string model = Path.Combine(_directory, "classifier.onnx");
        ExportTinyClassifier(model);

        var (exitCode, output, json) = await CommandRunner.RunWithStandardOutputAsync(
            "score-images", "--fake", _trained.Images, "--type", "inception_score", "--classifier-onnx", model, "--image-size", "28", "--json");

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        using var report = JsonDocument.Parse(json);
        Assert.Equal("inception_score", report.RootElement.GetProperty("type").GetString());
        Assert.True(report.RootElement.GetProperty("higher_is_better").GetBoolean());
        Assert.InRange(report.RootElement.GetProperty("score").GetDouble(), 1.0, 4.0);
    }

    [Fact]
    public async Task Train_ClassifierOnnx_ScoresByInceptionScore()
    {
        string model = Path.Combine(_directory, "classifier.onnx");
        ExportTinyClassifier(model);
        string run = Path.Combine(_directory, "is-run");

        var (exitCode, output) = await CommandRunner.RunAsync(
            "train", "-f", _trained.ConfigPath, "--output", run, "--classifier-onnx", model,
            "--set", "trainer.n_iterations=1", "--set", "trainer.params.score.final_sample_size=20");

        Assert.True(exitCode == LipizzanerCommand.Success, output);
        Assert.Contains("mixture IS ", output, StringComparison.Ordinal);
        string[] lines = File.ReadAllLines(Path.Combine(run, "scores.csv"));
        double score = double.Parse(lines[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(score, 1.0, 4.0);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "mixture", "mixture.json")));
        Assert.Equal("inception_score", manifest.RootElement.GetProperty("score_type").GetString());
        Assert.Contains("inception_score", File.ReadAllText(Path.Combine(run, "config.yml")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScoreImages_InceptionScoreWithoutClassifier_IsRejected()
    {
        var (exitCode, error) = await CommandRunner.RunAsync("score-images", "--fake", _trained.Images, "--type", "inception_score");

        Assert.Equal(LipizzanerCommand.Failure, exitCode);
        Assert.Contains("--classifier-onnx", error, StringComparison.Ordinal);
    }

    /// <summary>Exports a 4-class linear classifier of 28 × 28 gray images to ONNX with Debian's PyTorch.</summary>
    private static void ExportTinyClassifier(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            import sys, torch
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 4))
            torch.onnx.export(model, torch.zeros(2, 1, 28, 28), sys.argv[1], input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, opset_version=13)
            """);
        start.ArgumentList.Add(path);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = System.Diagnostics.Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"Exporting the ONNX classifier with Debian's python3-torch failed: {errors}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder does not affect the result.
        }
    }

    /// <summary>Width, height, bit depth and colour type from a PNG file's IHDR chunk.</summary>
    private sealed record PngHeader(int Width, int Height, int BitDepth, int ColourType)
    {
        public static PngHeader Read(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            Assert.True(bytes.AsSpan(12, 4).SequenceEqual("IHDR"u8), $"{path} does not start with an IHDR chunk");
            return new PngHeader(
                BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)),
                BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)),
                bytes[24],
                bytes[25]);
        }
    }

    /// <summary>
    /// A 1×1 grid of 4lp cells trained with KID for 2 generations on the first shared positive chest
    /// X-rays, plus as many negative ones, each copied to a temporary folder.
    /// </summary>
    public sealed class TrainedMixture : IDisposable
    {
        public const int ImageCount = 12;

        private readonly string _root = Path.Combine(Path.GetTempPath(), "lipizzaner-cli-tests", "xray-" + Guid.NewGuid().ToString("N"));

        public TrainedMixture()
        {
            Images = CopyShared("positive");
            Negatives = CopyShared("negative");
            string config = Path.Combine(_root, "xray.yml");
            ConfigPath = config;
            File.WriteAllText(config, $$"""
                general: { checkpoint_period: 0 }
                grid: { width: 1, height: 1 }
                trainer:
                  n_iterations: 2
                  params:
                    tournament_size: 1
                    score: { enabled: true, type: kid, score_sample_size: 10, final_sample_size: 12, kid_subsets: 5, kid_subset_size: 6 }
                    fitness: { fitness_sample_size: 6 }
                dataloader: { dataset_name: image_folder, path: "{{Images}}", batch_size: 6, n_batches: 2, sample_count: 4 }
                network: { name: 4lp }
                runtime: { parallelism: 1 }
                """);
            Run = Path.Combine(_root, "run");
            var (exitCode, output) = CommandRunner.RunAsync("train", "-f", config, "--output", Run).GetAwaiter().GetResult();
            Assert.True(exitCode == LipizzanerCommand.Success, output);
            Output = output;
        }

        public string Images { get; }

        public string Negatives { get; }

        /// <summary>The configuration file the mixture was trained with.</summary>
        public string ConfigPath { get; }

        public string Run { get; }

        /// <summary>Everything the train command printed.</summary>
        public string Output { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder does not affect the result.
            }
        }

        private string CopyShared(string className)
        {
            string target = Path.Combine(_root, className);
            Directory.CreateDirectory(target);
            foreach (string file in Directory.GetFiles(SharedFolder(className)).Order(StringComparer.Ordinal).Take(ImageCount))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }

            return target;
        }

        /// <summary>Returns <c>shared/datasets/covid19-cxr/CLASS</c> in the nearest folder above the test binaries that has it.</summary>
        private static string SharedFolder(string className)
        {
            var searched = new List<string>();
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                string candidate = Path.Combine(folder.FullName, "shared", "datasets", "covid19-cxr", className);
                searched.Add(candidate);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            Assert.Fail("The chest X-ray images were not found; searched: " + string.Join(", ", searched));
            return "";
        }
    }
}
