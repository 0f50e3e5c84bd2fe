using System.CommandLine;
using System.Globalization;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary><c>lipizzaner train</c>: runs the embedded trainer on a configuration file.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var configOption = new Option<FileInfo?>("--file", "-f")
        {
            Description = "YAML configuration file (for example configs/quickstart-mnist.yml).",
        };
        var outputOption = new Option<DirectoryInfo?>("--output", "-o")
        {
            Description = "Run folder to create; default: runs/<config name>-<UTC time>.",
        };
        var setOption = new Option<string[]>("--set")
        {
            Description = "Override a configuration key, as key.path=value (repeatable), e.g. --set trainer.n_iterations=5.",
            AllowMultipleArgumentsPerToken = false,
        };
        var resumeOption = new Option<DirectoryInfo?>("--resume")
        {
            Description = "Continue the run in this folder from its newest valid checkpoints, with its config.yml (plus any --set).",
        };
        var dataOption = new Option<DirectoryInfo?>("--data-dir")
        {
            Description = "Folder with your own MNIST IDX files (sets dataloader.data_dir); default: the verified download cache.",
        };
        var pytorchClassifierOption = new Option<FileInfo?>("--classifier")
        {
            Description = "PyTorch state dict of the FID classifier (for example the original mnist_cnn.pkl) instead of the cached one.",
        };
        var classifierOption = new Option<DirectoryInfo?>("--classifier-dir")
        {
            Description = "Folder of the cached FID classifier; default: the user cache (trained there on first use).",
        };
        var onnxClassifierOption = new Option<FileInfo?>("--classifier-onnx")
        {
            Description = "ONNX image classifier with class logits: score by its Inception Score (sets trainer.params.score.type inception_score and trainer.params.score.classifier_onnx).",
        };

        var command = new Command("train", "Train a grid of GANs in this process and save the best generator mixture.")
        {
            configOption, outputOption, setOption, resumeOption, dataOption, pytorchClassifierOption, classifierOption, onnxClassifierOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => TrainAsync(
            parseResult.GetValue(configOption),
            parseResult.GetValue(outputOption),
            WithOnnxClassifier(parseResult.GetValue(setOption) ?? [], parseResult.GetValue(onnxClassifierOption)),
            parseResult.GetValue(resumeOption),
            parseResult.GetValue(dataOption),
            parseResult.GetValue(classifierOption),
            parseResult.GetValue(pytorchClassifierOption),
            logger,
            cancellationToken)));
        return command;
    }

    /// <summary>Appends the overrides that <c>--classifier-onnx</c> stands for, so that they are validated like any <c>--set</c>.</summary>
    private static string[] WithOnnxClassifier(string[] overrides, FileInfo? classifier) =>
        classifier is null
            ? overrides
            : [.. overrides, "trainer.params.score.enabled=true", "trainer.params.score.type=inception_score", $"trainer.params.score.classifier_onnx={classifier.FullName}"];

    private static async Task<int> TrainAsync(
        FileInfo? configFile,
        DirectoryInfo? output,
        string[] overrides,
        DirectoryInfo? resume,
        DirectoryInfo? dataDirectory,
        DirectoryInfo? classifierDirectory,
        FileInfo? pytorchClassifier,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        string runDirectory;
        ConfigLoadResult loaded;
        if (resume is not null)
        {
            if (configFile is not null || output is not null)
            {
                throw new ArgumentException("--resume takes the configuration and the folder of the run it continues; drop --file and --output.");
            }

            runDirectory = resume.FullName;
            string savedConfig = Path.Combine(runDirectory, "config.yml");
            if (!File.Exists(savedConfig))
            {
                throw new FileNotFoundException($"No config.yml in {runDirectory}; --resume needs the folder of an earlier 'lipizzaner train' run.", savedConfig);
            }

            loaded = ConfigLoader.LoadFile(savedConfig, overrides);
        }
        else
        {
            if (configFile is null)
            {
                throw new ArgumentException("Missing configuration: pass -f CONFIG (for example -f configs/quickstart-mnist.yml) or --resume DIR.");
            }

            loaded = ConfigLoader.LoadFile(configFile.FullName, overrides);
            runDirectory = output?.FullName ?? DefaultRunDirectory(configFile);
            if (Directory.Exists(runDirectory) && Directory.EnumerateFileSystemEntries(runDirectory).Any())
            {
                throw new ArgumentException(
                    $"Run folder {runDirectory} already exists and is not empty. Choose a new --output folder, or continue that run with --resume {runDirectory}.");
            }
        }

        foreach (string warning in loaded.Warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }

        var config = loaded.Config;
        if (dataDirectory is not null)
        {
            config.DataLoader.DataDir = dataDirectory.FullName;
        }
        var topology = new Lipizzaner.Core.Grid.GridTopology(config.Grid.Width, config.Grid.Height);
        var folder = new RunFolder(runDirectory, topology);
        folder.WriteConfig(ConfigLoader.ToYaml(config));
        logger.LogInformation("Run folder: {Folder}", folder.Root);

        TorchSetup.Configure(config.Runtime.TorchThreads);
        using var resources = await RunResources.LoadAsync(config, classifierDirectory?.FullName, pytorchClassifier?.FullName, logger, cancellationToken).ConfigureAwait(false);
        var runner = new EmbeddedRunner(config, resources, logger);
        string scoreLabel = ScoreKinds.Label(config.Trainer.Params.Score.Type);
        using var progress = TrainingProgress.Start(runner.Topology, config.Trainer.NIterations, logger, scoreLabel);
        runner.GenerationCompleted += progress.Report;
        RunResult result;
        try
        {
            result = await runner.RunAsync(folder, resume is not null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            runner.GenerationCompleted -= progress.Report;
            progress.Stop();
        }

        if (result.Best is { } best)
        {
            Console.WriteLine($"Best cell {best.CellName}: mixture {scoreLabel} {TrainingProgress.FormatScore(best.Score)}. Report: {folder.ReportPath}");
        }

        return LipizzanerCommand.Success;
    }

    private static string DefaultRunDirectory(FileInfo configFile)
    {
        string name = Path.GetFileNameWithoutExtension(configFile.Name);
        string stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return Path.Combine(Directory.GetCurrentDirectory(), "runs", $"{name}-{stamp}");
    }
}
