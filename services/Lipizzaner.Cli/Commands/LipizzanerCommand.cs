using System.CommandLine;
using Lipizzaner.Core.Configuration;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary>The root <c>lipizzaner</c> command, its subcommands and the mapping of failures to exit codes.</summary>
public static class LipizzanerCommand
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Cancelled = 130;

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand(
            "Lipizzaner: trains a toroidal grid of GANs by spatial coevolution and samples from the evolved generator mixture.")
        {
            TrainCommand.Create(),
            SampleCommand.Create(),
            AugmentCommand.Create(),
            EvaluateAugmentationCommand.Create(),
            ClassifierCommand.Create(),
            ScoreCommand.Create(),
            ScoreImagesCommand.Create(),
            MixtureCommand.Create(),
            ExportCommand.Create(),
            RunCommands.Submit(),
            RunCommands.Status(),
            RunCommands.Results(),
            RunCommands.Resume(),
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // One line per problem instead of System.CommandLine's default of the errors plus the whole help page.
            foreach (var error in parseResult.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Add --help after the command to list its options.").ConfigureAwait(false);
            return Failure;
        }

        return await parseResult.InvokeAsync().ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="action"/> with a console logger and Ctrl+C cancellation, turning known failures into one-line errors.</summary>
    public static async Task<int> Execute(Func<ILogger, CancellationToken, Task<int>> action)
    {
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "HH:mm:ss ";
            })
            .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Information));
        var logger = loggerFactory.CreateLogger("lipizzaner");
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, eventArgs) =>
        {
            eventArgs.Cancel = true;
            cancellation.Cancel();
        };

        try
        {
            return await action(logger, cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Cancelled; checkpoints written so far are kept (resume with 'lipizzaner train --resume DIR').").ConfigureAwait(false);
            return Cancelled;
        }
        catch (Exception error) when (error is ConfigException or InvalidDataException or FileNotFoundException
            or DirectoryNotFoundException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            return Failure;
        }
    }
}
