using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lipizzaner.Core.Configuration;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary>
/// <c>lipizzaner submit</c>, <c>status</c>, <c>results</c> and <c>resume</c>: a distributed run at a coordinator.
/// The coordinator's URL comes from <c>--coordinator</c> or <c>LIPIZZANER_COORDINATOR</c>, the token
/// of <c>submit</c> and <c>resume</c> from <c>--token</c> or <c>LIPIZZANER_TOKEN</c>.
/// </summary>
public static class RunCommands
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static Command Submit()
    {
        // --config as well: 'dotnet run' claims --file and -f for itself, so the AppHost passes --config.
        var configOption = new Option<FileInfo>("--file", "-f", "--config")
        {
            Description = "YAML configuration of the run, e.g. configs/quickstart-distributed.yml.",
            Required = true,
        };
        var setOption = new Option<string[]>("--set")
        {
            Description = "Override a configuration key, as key.path=value (repeatable), e.g. --set trainer.n_iterations=5.",
            AllowMultipleArgumentsPerToken = false,
        };
        var coordinatorOption = CoordinatorOption();
        var tokenOption = new Option<string?>("--token")
        {
            Description = $"The coordinator's bearer token; default: the environment variable {CoordinatorConnection.TokenVariable}.",
        };
        var command = new Command("submit", "Submit a run to a coordinator and print its run id; workers then join it.")
        {
            configOption, setOption, coordinatorOption, tokenOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute(async (logger, cancellationToken) =>
        {
            var loaded = ConfigLoader.LoadFile(parseResult.GetValue(configOption)!.FullName, parseResult.GetValue(setOption) ?? []);
            foreach (string warning in loaded.Warnings)
            {
                logger.LogWarning("{Warning}", warning);
            }

            string token = CoordinatorConnection.RequireToken(parseResult.GetValue(tokenOption));
            using var connection = CoordinatorConnection.Open(parseResult.GetValue(coordinatorOption), token);
            // The effective configuration, with the overrides applied, is what the workers train with.
            string body = await connection.SubmitAsync(ConfigLoader.ToYaml(loaded.Config), cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            await Console.Out.WriteLineAsync(document.RootElement.GetProperty("run_id").GetString()).ConfigureAwait(false);
            return LipizzanerCommand.Success;
        }));
        return command;
    }

    public static Command Resume()
    {
        var runArgument = RunArgument();
        var coordinatorOption = CoordinatorOption();
        var tokenOption = new Option<string?>("--token")
        {
            Description = $"The coordinator's bearer token; default: the environment variable {CoordinatorConnection.TokenVariable}.",
        };
        var command = new Command("resume",
            "Continue an aborted or failed run from its checkpoints; workers started now join it, however many they are.")
        {
            runArgument, coordinatorOption, tokenOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute(async (_, cancellationToken) =>
        {
            string token = CoordinatorConnection.RequireToken(parseResult.GetValue(tokenOption));
            using var connection = CoordinatorConnection.Open(parseResult.GetValue(coordinatorOption), token);
            string body = await connection.ResumeAsync(parseResult.GetValue(runArgument)!, cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            await Console.Out.WriteLineAsync(DescribeStatus(document.RootElement)).ConfigureAwait(false);
            return LipizzanerCommand.Success;
        }));
        return command;
    }

    public static Command Status()
    {
        var runArgument = RunArgument();
        var jsonOption = JsonOption();
        var coordinatorOption = CoordinatorOption();
        var command = new Command("status", "Print a run's state, grid and cells as the coordinator reports them.")
        {
            runArgument, jsonOption, coordinatorOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute(async (_, cancellationToken) =>
        {
            using var connection = CoordinatorConnection.Open(parseResult.GetValue(coordinatorOption), token: null);
            string body = await connection.StatusAsync(parseResult.GetValue(runArgument)!, cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            await Console.Out.WriteLineAsync(parseResult.GetValue(jsonOption) ? Indented(document) : DescribeStatus(document.RootElement)).ConfigureAwait(false);
            return LipizzanerCommand.Success;
        }));
        return command;
    }

    public static Command Results()
    {
        var runArgument = RunArgument();
        var jsonOption = JsonOption();
        var coordinatorOption = CoordinatorOption();
        var command = new Command("results", "Print the best cell of an ended run, its final score and where its mixture is stored.")
        {
            runArgument, jsonOption, coordinatorOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute(async (_, cancellationToken) =>
        {
            using var connection = CoordinatorConnection.Open(parseResult.GetValue(coordinatorOption), token: null);
            string body = await connection.ResultsAsync(parseResult.GetValue(runArgument)!, cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            await Console.Out.WriteLineAsync(parseResult.GetValue(jsonOption)
                ? Indented(document)
                : string.Create(CultureInfo.InvariantCulture,
                    $"Run {root.GetProperty("run_id").GetString()} {root.GetProperty("state").GetString()}: best cell {root.GetProperty("best_cell").GetInt32()} ({root.GetProperty("x").GetInt32()},{root.GetProperty("y").GetInt32()}), {root.GetProperty("score_type").GetString()} {root.GetProperty("score").GetDouble():G6}, mixture {MixtureOf(root)}"))
                .ConfigureAwait(false);
            return LipizzanerCommand.Success;
        }));
        return command;
    }

    private static string MixtureOf(JsonElement results) =>
        results.TryGetProperty("mixture", out var mixture) && mixture.ValueKind == JsonValueKind.String
            ? mixture.GetString()!
            : "not reported";

    /// <summary>Formats a run's status as text: the state and reason, the grid, and one line per cell.</summary>
    internal static string DescribeStatus(JsonElement run)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Run {run.GetProperty("run_id").GetString()}: {run.GetProperty("state").GetString()}");
        if (run.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({reason.GetString()})");
        }

        var cells = run.GetProperty("cells");
        if (run.TryGetProperty("grid", out var grid) && grid.ValueKind == JsonValueKind.Object)
        {
            int completed = cells.EnumerateArray().Count(cell => cell.GetProperty("state").GetString() == "completed");
            text.Append(CultureInfo.InvariantCulture,
                $", grid {grid.GetProperty("width").GetInt32()}x{grid.GetProperty("height").GetInt32()}, {completed} of {cells.GetArrayLength()} cells completed");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $", waiting for workers ({run.GetProperty("registered_capacity").GetInt32()} cells of capacity registered)");
        }

        int generations = run.GetProperty("generations").GetInt32();
        foreach (var cell in cells.EnumerateArray())
        {
            string worker = cell.GetProperty("worker_id") is { ValueKind: JsonValueKind.String } id ? id.GetString()! : "-";
            string score = cell.GetProperty("score") is { ValueKind: JsonValueKind.Number } value
                ? value.GetDouble().ToString("F3", CultureInfo.InvariantCulture)
                : "n/a";
            text.AppendLine().Append(CultureInfo.InvariantCulture,
                $"  cell {cell.GetProperty("cell").GetInt32()} ({cell.GetProperty("x").GetInt32()},{cell.GetProperty("y").GetInt32()}): {cell.GetProperty("state").GetString()}, generation {cell.GetProperty("generation").GetInt32()}/{generations}, worker {worker}, score {score}");
        }

        return text.ToString();
    }

    private static string Indented(JsonDocument document) => JsonSerializer.Serialize(document.RootElement, IndentedJson);

    private static Argument<string> RunArgument() => new("RUN") { Description = "The run id that 'lipizzaner submit' printed." };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the coordinator's JSON instead of text." };

    private static Option<string?> CoordinatorOption() => new("--coordinator")
    {
        Description = $"The coordinator's URL, e.g. http://127.0.0.1:5080; default: the environment variable {CoordinatorConnection.CoordinatorVariable}.",
    };
}
