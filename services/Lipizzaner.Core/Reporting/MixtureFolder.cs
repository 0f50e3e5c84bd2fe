using System.Text.Json;
using System.Text.Json.Serialization;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Scoring;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Reporting;

/// <summary>One generator of a saved mixture.</summary>
public sealed record MixtureMember(
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("sha256")] string Sha256);

/// <summary>
/// The manifest <c>mixture.json</c> of a saved mixture. Its generators are state-dict files
/// (<see cref="StateDictFile"/>) in the same folder; <c>network</c> names the architecture as in
/// configuration files, and the weights sum to 1.
/// </summary>
public sealed record MixtureManifest(
    [property: JsonPropertyName("format_version")] int FormatVersion,
    [property: JsonPropertyName("network")] string Network,
    [property: JsonPropertyName("latent_size")] int LatentSize,
    [property: JsonPropertyName("image_side")] int ImageSide,
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("fid")] double? Fid,
    [property: JsonPropertyName("tvd")] double? Tvd,
    [property: JsonPropertyName("score_samples")] int ScoreSamples,
    [property: JsonPropertyName("generators")] IReadOnlyList<MixtureMember> Generators,
    [property: JsonPropertyName("score_type")] string? ScoreType = null,
    [property: JsonPropertyName("score")] double? Score = null);

/// <summary>Writes and reads a generator mixture folder.</summary>
public static class MixtureFolder
{
    public const string ManifestFileName = "mixture.json";
    public const int CurrentFormatVersion = 1;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Writes each generator as <c>generator-{cell}.bin</c> and the manifest into a new folder, then
    /// swaps it in for <paramref name="directory"/>, so the folder never mixes files of two mixtures.
    /// </summary>
    public static MixtureManifest Write(
        string directory,
        NetworkKind kind,
        string bestCell,
        IReadOnlyList<(string Cell, Sequential Generator, double Weight)> members,
        double? score,
        double? tvd,
        int scoreSamples,
        ScoreKind scoreKind = ScoreKind.Fid)
    {
        var spec = NetworkFactory.Spec(kind);
        string target = Path.GetFullPath(directory);
        string staging = $"{target}.new-{Guid.NewGuid():N}";
        var entries = new List<MixtureMember>();
        foreach (var (cell, generator, weight) in members)
        {
            string file = $"generator-{cell}.bin";
            byte[] bytes = StateDictFile.ToBytes(generator);
            AtomicFile.WriteAllBytes(Path.Combine(staging, file), bytes);
            entries.Add(new MixtureMember(cell, file, weight, AtomicFile.Sha256Hex(bytes)));
        }

        // The fid field keeps its meaning for readers of format version 1; other scores go to score.
        double? fid = scoreKind == ScoreKind.Fid ? score : null;
        var manifest = new MixtureManifest(
            CurrentFormatVersion, spec.Name, spec.LatentSize, spec.ImageSide, bestCell, fid, tvd, scoreSamples, entries,
            score is null ? null : ScoreKinds.ConfigName(scoreKind), score);
        AtomicFile.WriteAllText(Path.Combine(staging, ManifestFileName), JsonSerializer.Serialize(manifest, JsonOptions));

        string? previous = null;
        if (Directory.Exists(target))
        {
            previous = $"{target}.old-{Guid.NewGuid():N}";
            Directory.Move(target, previous);
        }

        Directory.Move(staging, target);
        if (previous is not null)
        {
            Directory.Delete(previous, recursive: true);
        }

        return manifest;
    }

    /// <summary>Reads the manifest and every generator, verifying each file's SHA-256.</summary>
    public static (MixtureManifest Manifest, List<Sequential> Generators, NetworkKind Kind) Read(string directory, Device device)
    {
        string manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw new FileNotFoundException(
                $"No {ManifestFileName} in {directory}. Pass the mixture/ folder of a finished run.", manifestPath);
        }

        var manifest = JsonSerializer.Deserialize<MixtureManifest>(File.ReadAllText(manifestPath), JsonOptions)
            ?? throw new InvalidDataException($"{manifestPath} is empty.");
        if (manifest.FormatVersion != CurrentFormatVersion)
        {
            throw new InvalidDataException(
                $"{manifestPath} has format version {manifest.FormatVersion}; this build reads version {CurrentFormatVersion}.");
        }

        var kind = Enum.GetValues<NetworkKind>().FirstOrDefault(candidate => NetworkFactory.ConfigName(candidate) == manifest.Network, (NetworkKind)(-1));
        if (!Enum.IsDefined(kind))
        {
            throw new InvalidDataException($"{manifestPath} names network '{manifest.Network}', which this build does not know.");
        }

        var generators = new List<Sequential>();
        foreach (var member in manifest.Generators)
        {
            string path = Path.Combine(directory, member.File);
            string actual = AtomicFile.Sha256HexOfFile(path);
            if (actual != member.Sha256)
            {
                throw new InvalidDataException(
                    $"{path} has SHA-256 {actual}, but {ManifestFileName} expects {member.Sha256}: the file is corrupt or was replaced.");
            }

            var generator = NetworkFactory.CreateGenerator(kind);
            StateDictFile.Load(generator, path);
            generator.to(device);
            generator.eval();
            generators.Add(generator);
        }

        return (manifest, generators, kind);
    }
}
