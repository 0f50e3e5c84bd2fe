using System.Security.Cryptography;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// Finds the ImageNet ResNet18 feature model that the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.24.0 ships as ONNX: <c>ResNet18.onnx</c> (input
/// <c>Input247</c> [1, 3, 224, 224], output <c>Pooling395_Output_0</c> [1, 512, 1, 1], the pooled features)
/// and its input preprocessing <c>ResNetPreprocess.onnx</c>.
/// </summary>
public static class ResNet18Model
{
    /// <summary>Environment variable naming a folder that contains both ONNX files; checked first.</summary>
    public const string DirectoryVariable = "LIPIZZANER_RESNET18_DIR";

    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    public const string PackageVersion = "0.24.0";
    public const string ModelFileName = "ResNet18.onnx";
    public const string PreprocessFileName = "ResNetPreprocess.onnx";

    /// <summary>SHA-256 of <c>ResNet18.onnx</c> in package version 0.24.0, so that features stay comparable between runs.</summary>
    public const string ModelSha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";

    /// <summary>Folder below the program's folder that the build copies both files into.</summary>
    public static string OutputFolder => Path.Combine(AppContext.BaseDirectory, "models", "resnet18");

    /// <summary>
    /// Returns the paths of the feature model and of its preprocessing model. It looks in
    /// <c>$LIPIZZANER_RESNET18_DIR</c>, then in <see cref="OutputFolder"/>, then in the NuGet package
    /// folder (<c>$NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No location has both files.</exception>
    /// <exception cref="InvalidDataException">The model file found is not the one of package version 0.24.0.</exception>
    public static (string Model, string Preprocess) Locate()
    {
        var candidates = new List<(string Model, string Preprocess)>();
        string? configured = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            candidates.Add((Path.Combine(configured, ModelFileName), Path.Combine(configured, PreprocessFileName)));
        }

        candidates.Add((Path.Combine(OutputFolder, ModelFileName), Path.Combine(OutputFolder, PreprocessFileName)));
        string packageRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string tools = Path.Combine(packageRoot, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels");
        candidates.Add((Path.Combine(tools, "ResNet18Onnx", ModelFileName), Path.Combine(tools, "ResNetPrepOnnx", PreprocessFileName)));

        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate.Model) && File.Exists(candidate.Preprocess))
            {
                VerifyModel(candidate.Model);
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"The ResNet18 ONNX model ({ModelFileName} and {PreprocessFileName}) was not found in "
            + string.Join(", ", candidates.Select(candidate => Path.GetDirectoryName(candidate.Model)))
            + $". Run 'dotnet restore' on the Lipizzaner solution, which downloads the NuGet package {PackageId} {PackageVersion}, "
            + $"or set {DirectoryVariable} to a folder that contains both files.");
    }

    private static void VerifyModel(string path)
    {
        using var stream = File.OpenRead(path);
        string hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (hash != ModelSha256)
        {
            throw new InvalidDataException(
                $"{path} has SHA-256 {hash}, not the {ModelSha256} of {PackageId} {PackageVersion}; "
                + "features from another model are not comparable. Restore that package version again, or point "
                + $"{DirectoryVariable} at its files.");
        }
    }
}
