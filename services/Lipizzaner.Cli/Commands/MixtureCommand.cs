using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary><c>lipizzaner mixture optimize</c>: the end-of-run (1+1)-ES on the mixture weights of fixed generators.</summary>
public static class MixtureCommand
{
    public static Command Create()
    {
        var options = new ScoringOptions();
        var generationsOption = new Option<int>("--es-generations")
        {
            Description = "ES iterations (optimize_mixture.es_generations); each scores one candidate.",
            DefaultValueFactory = _ => 10,
        };
        var sigmaOption = new Option<double>("--mixture-sigma")
        {
            Description = "Standard deviation of the weight mutation (mixture_sigma).",
            DefaultValueFactory = _ => 0.01,
        };
        var esSeedOption = new Option<int>("--es-seed")
        {
            Description = "Seed of the weight mutations.",
            DefaultValueFactory = _ => 1,
        };
        var outOption = new Option<DirectoryInfo?>("--out")
        {
            Description = "Write the optimised mixture here (mixture.json and generator files), for 'lipizzaner sample'.",
        };

        var optimize = new Command(
            "optimize",
            "Evolve mixture weights with the (1+1)-ES on fixed latent noise, accepting strict FID improvements, and report the score before and after.");
        options.AddTo(optimize);
        optimize.Options.Add(generationsOption);
        optimize.Options.Add(sigmaOption);
        optimize.Options.Add(esSeedOption);
        optimize.Options.Add(outOption);
        optimize.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, cancellationToken) => OptimizeAsync(
            parseResult, options, parseResult.GetValue(generationsOption), parseResult.GetValue(sigmaOption),
            parseResult.GetValue(esSeedOption), parseResult.GetValue(outOption), logger, cancellationToken)));

        return new Command("mixture", "Work with generator mixtures.") { optimize };
    }

    private static async Task<int> OptimizeAsync(
        ParseResult parseResult,
        ScoringOptions options,
        int generations,
        double sigma,
        int esSeed,
        DirectoryInfo? output,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        if (generations < 0)
        {
            throw new ArgumentException($"--es-generations {generations} is invalid; pass 0 or more.");
        }

        if (!(sigma >= 0) || double.IsInfinity(sigma))
        {
            throw new ArgumentException($"--mixture-sigma {sigma} is invalid; pass a finite number of 0 or more.");
        }

        using var session = await ScoringSession.OpenAsync(parseResult, options, logger, cancellationToken).ConfigureAwait(false);
        var generators = session.Generators;

        double Score(IReadOnlyList<double> weights)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Fid.Distance(session.Real, session.Statistics(weights));
        }

        // The fixed latent noise and block assignment make a weight vector's score deterministic, so
        // the parent's score is computed once and kept, as in the original end-of-run ES.
        var random = new CellRandom((ulong)(uint)esSeed);
        double[] weights = generators.Weights.ToArray();
        double before = Score(weights);
        double current = before;
        int accepted = 0;
        for (int generation = 0; generation < generations && weights.Length > 1; generation++)
        {
            var candidate = MixtureEvolution.Mutate(weights, sigma, random);
            double score = Score(candidate);
            if (score < current)
            {
                weights = candidate;
                current = score;
                accepted++;
            }
        }

        if (output is not null)
        {
            MixtureFolder.Write(
                output.FullName, generators.Kind, "imported",
                generators.Names.Select((name, i) => (Path.GetFileNameWithoutExtension(name), generators.Generators[i], weights[i])).ToList(),
                current, null, session.Samples);
        }

        if (parseResult.GetValue(options.Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["fid_before"] = before,
                ["fid_after"] = current,
                ["accepted"] = accepted,
                ["weights"] = generators.Names.Zip(weights).ToDictionary(pair => pair.First, pair => pair.Second),
                ["classifier"] = session.ClassifierName,
            }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FID before {before:F6}, after {current:F6} ({accepted} of {generations} candidates accepted); weights: {string.Join(", ", generators.Names.Zip(weights, (name, weight) => $"{name} {weight:F4}"))}"));
        }

        return LipizzanerCommand.Success;
    }
}
