using System.CommandLine;
using System.Globalization;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Interop;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Cli.Commands;

/// <summary>A set of generators to score: imported PyTorch files or a saved mixture folder, with weights.</summary>
public sealed class GeneratorSet : IDisposable
{
    public GeneratorSet(NetworkKind kind, List<Sequential> generators, double[] weights, List<string> names)
    {
        Kind = kind;
        Generators = generators;
        Weights = weights;
        Names = names;
    }

    public NetworkKind Kind { get; }

    public List<Sequential> Generators { get; }

    public double[] Weights { get; }

    public List<string> Names { get; }

    public NetworkSpec Spec => NetworkFactory.Spec(Kind);

    public void Dispose()
    {
        foreach (var generator in Generators)
        {
            generator.Dispose();
        }
    }
}

/// <summary>
/// Everything <c>score</c> and <c>mixture optimize</c> load before scoring: the generators, fixed latent
/// noise, the classifier and the statistics of the first N training images.
/// </summary>
public sealed class ScoringSession : IDisposable
{
    private readonly MnistClassifier _classifier;
    private readonly Tensor _latents;
    private readonly bool _dropRemainder;

    private ScoringSession(GeneratorSet generators, Tensor latents, MnistClassifier classifier, FeatureStatistics real, bool dropRemainder)
    {
        Generators = generators;
        _latents = latents;
        _classifier = classifier;
        Real = real;
        _dropRemainder = dropRemainder;
    }

    public GeneratorSet Generators { get; }

    public FeatureStatistics Real { get; }

    public int Samples => (int)_latents.shape[0];

    /// <summary>The classifier's file, or a note that the cached classifier was used, for reports.</summary>
    public string ClassifierName { get; private init; } = "";

    public static async Task<ScoringSession> OpenAsync(
        ParseResult parseResult, ScoringOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        TorchSetup.Configure(Math.Max(1, Environment.ProcessorCount));
        int samples = parseResult.GetValue(options.Samples);
        bool dropRemainder = parseResult.GetValue(options.DropRemainder);
        var generators = ScoringInputs.LoadGenerators(
            parseResult.GetValue(options.PyTorchGenerators) ?? [],
            parseResult.GetValue(options.Mixture),
            parseResult.GetValue(options.Network),
            parseResult.GetValue(options.Weights));
        Tensor? latents = null;
        MnistClassifier? classifier = null;
        string classifierName = "";
        try
        {
            var latentsFile = parseResult.GetValue(options.Latents);
            if (latentsFile is not null && parseResult.GetResult(options.Seed) is { Implicit: false })
            {
                throw new ArgumentException("--seed and --latents both choose the latent noise; pass only one.");
            }

            latents = ScoringInputs.Latents(samples, generators.Spec.LatentSize, parseResult.GetValue(options.Seed), latentsFile);
            string dataDirectory = await ScoringInputs.MnistDirectoryAsync(parseResult.GetValue(options.DataDirectory), logger, cancellationToken).ConfigureAwait(false);
            var classifierFile = parseResult.GetValue(options.Classifier);
            classifier = await ScoringInputs.LoadClassifierAsync(classifierFile, null, dataDirectory, logger, cancellationToken).ConfigureAwait(false);
            classifierName = classifierFile?.FullName ?? $"cached ({ClassifierStore.DefaultDirectory})";
            using var train = MnistDataset.Load(dataDirectory, MnistSplit.Train);
            if (samples > train.Count)
            {
                throw new ArgumentException($"--samples {samples} is larger than the {train.Count} MNIST training images; pass at most {train.Count}.");
            }

            var real = FidScorer.Statistics(classifier, train.Images.narrow(0, 0, samples), dropRemainder);
            return new ScoringSession(generators, latents, classifier, real, dropRemainder) { ClassifierName = classifierName };
        }
        catch
        {
            generators.Dispose();
            latents?.Dispose();
            classifier?.Dispose();
            throw;
        }
    }

    /// <summary>Returns the statistics of the mixture with <paramref name="weights"/> on the session's fixed latent noise.</summary>
    public FeatureStatistics Statistics(IReadOnlyList<double> weights)
    {
        using var scope = torch.NewDisposeScope();
        return FidScorer.Statistics(_classifier, GeneratorScoring.Generate(Generators.Generators, weights, _latents), _dropRemainder);
    }

    public void Dispose()
    {
        Generators.Dispose();
        _latents.Dispose();
        _classifier.Dispose();
    }
}

/// <summary>Loading of the inputs shared by <c>score</c>, <c>mixture optimize</c> and <c>classifier evaluate</c>.</summary>
public static class ScoringInputs
{
    /// <summary>
    /// Loads generators from PyTorch state-dict files (with <paramref name="network"/>) or from a mixture
    /// folder, and the weights: <paramref name="weightsText"/> when given, else the mixture's, else uniform.
    /// </summary>
    public static GeneratorSet LoadGenerators(FileInfo[] pytorchFiles, DirectoryInfo? mixture, string? network, string? weightsText)
    {
        if ((pytorchFiles.Length == 0) == (mixture is null))
        {
            throw new ArgumentException("Pass either --pytorch-generator FILE... (with --network) or --mixture DIR, not both and not neither.");
        }

        GeneratorSet set;
        if (mixture is not null && network is not null)
        {
            throw new ArgumentException("--network applies to --pytorch-generator files; a mixture folder names its own network, so drop --network.");
        }

        if (mixture is not null)
        {
            var (manifest, generators, kind) = MixtureFolder.Read(mixture.FullName, torch.CPU);
            set = new GeneratorSet(
                kind, generators, manifest.Generators.Select(member => member.Weight).ToArray(), manifest.Generators.Select(member => member.Cell).ToList());
        }
        else
        {
            var kind = ParseNetwork(network);
            var generators = new List<Sequential>();
            try
            {
                foreach (var file in pytorchFiles)
                {
                    if (!file.Exists)
                    {
                        throw new FileNotFoundException(
                            $"Generator file {file.FullName} not found; pass state dicts saved with torch.save(generator.state_dict(), path).", file.FullName);
                    }

                    var generator = NetworkFactory.CreateGenerator(kind);
                    generators.Add(generator);
                    PyTorchStateDict.LoadInto(generator, file.FullName);
                    generator.eval();
                }
            }
            catch
            {
                generators.ForEach(generator => generator.Dispose());
                throw;
            }

            set = new GeneratorSet(kind, generators, Enumerable.Repeat(1.0 / generators.Count, generators.Count).ToArray(), pytorchFiles.Select(file => file.Name).ToList());
        }

        if (weightsText is not null)
        {
            var weights = ParseWeights(weightsText, set.Generators.Count);
            Array.Copy(weights, set.Weights, weights.Length);
        }

        return set;
    }

    public static NetworkKind ParseNetwork(string? network)
    {
        var names = Enum.GetValues<NetworkKind>().ToDictionary(NetworkFactory.ConfigName);
        if (network is null)
        {
            throw new ArgumentException($"--network is required with --pytorch-generator: pass the architecture the generators were saved from ({string.Join(", ", names.Keys)}).");
        }

        if (!names.TryGetValue(network, out var kind))
        {
            throw new ArgumentException(
                $"--network '{network}' is invalid; PyTorch generators need the architecture they were saved from: {string.Join(", ", names.Keys)}.");
        }

        return kind;
    }

    /// <summary>Parses "w1,w2,..." into one non-negative weight per generator, normalised to sum 1.</summary>
    public static double[] ParseWeights(string text, int generatorCount)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var weights = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out weights[i]) || !(weights[i] >= 0) || double.IsInfinity(weights[i]))
            {
                throw new ArgumentException($"--weights '{text}' is invalid: '{parts[i]}' is not a non-negative number. Give comma-separated weights such as 0.5,0.3,0.2.");
            }
        }

        if (weights.Length != generatorCount)
        {
            throw new ArgumentException($"--weights '{text}' has {weights.Length} values for {generatorCount} generators; give one weight per generator.");
        }

        double sum = weights.Sum();
        if (!(sum > 0))
        {
            throw new ArgumentException($"--weights '{text}' sum to 0; at least one weight must be positive.");
        }

        return weights.Select(weight => weight / sum).ToArray();
    }

    /// <summary>Returns latent vectors: the first <paramref name="samples"/> rows of <paramref name="latentsFile"/>, or <c>manual_seed(seed)</c> then <c>randn</c>, which matches PyTorch's stream.</summary>
    public static Tensor Latents(int samples, int latentSize, int seed, FileInfo? latentsFile)
    {
        if (samples < MnistClassifier.FeatureCount)
        {
            throw new ArgumentException(
                $"--samples {samples} is invalid; FID on {MnistClassifier.FeatureCount} classifier logits needs at least {MnistClassifier.FeatureCount} samples.");
        }

        if (latentsFile is not null)
        {
            return GeneratorScoring.ReadLatents(latentsFile.FullName, samples, latentSize);
        }

        using var generator = new torch.Generator((ulong)(uint)seed);
        return torch.randn([samples, latentSize], generator: generator);
    }

    /// <summary>Loads the classifier from a PyTorch state dict when given, else the cached one (training it on first use).</summary>
    public static async Task<MnistClassifier> LoadClassifierAsync(
        FileInfo? pytorchClassifier, DirectoryInfo? classifierDirectory, string dataDirectory, ILogger logger, CancellationToken cancellationToken)
    {
        if (pytorchClassifier is not null)
        {
            return LoadPyTorchClassifier(pytorchClassifier.FullName);
        }

        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        using var train = MnistDataset.Load(dataDirectory, MnistSplit.Train);
        using var test = MnistDataset.Load(dataDirectory, MnistSplit.Test);
        var (classifier, _) = ClassifierStore.LoadOrTrain(
            classifierDirectory?.FullName ?? ClassifierStore.DefaultDirectory, train, test, new ClassifierTrainingOptions(), logger);
        return classifier;
    }

    public static MnistClassifier LoadPyTorchClassifier(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Classifier file {path} not found; pass a PyTorch state dict with the keys conv1.*, conv2.*, fc1.*, fc2.*.", path);
        }

        var classifier = new MnistClassifier();
        try
        {
            PyTorchStateDict.LoadInto(classifier, path);
            classifier.eval();
            return classifier;
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    public static Task<string> MnistDirectoryAsync(DirectoryInfo? dataDirectory, ILogger logger, CancellationToken cancellationToken) =>
        RunResources.ResolveMnistDirectoryAsync(dataDirectory?.FullName, logger, cancellationToken);
}
