using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.Cli.Commands;

/// <summary>
/// <c>lipizzaner score-images</c>: scores a folder of generated images by KID or FID on ResNet18 features
/// against a folder of real images, or by the Inception Score of an ONNX classifier.
/// </summary>
public static class ScoreImagesCommand
{
    public static Command Create()
    {
        var fakeOption = new Option<DirectoryInfo>("--fake")
        {
            Description = "Folder of generated images, for example the output of 'lipizzaner sample'.",
            Required = true,
        };
        var realOption = new Option<DirectoryInfo?>("--real")
        {
            Description = "Folder of real images to compare with; required for kid and fid_resnet.",
        };
        var typeOption = new Option<string>("--type")
        {
            Description = "Score: kid (default), fid_resnet (needs more than 512 images per folder) or inception_score (needs --classifier-onnx).",
            DefaultValueFactory = _ => "kid",
        };
        var classifierOption = new Option<FileInfo?>("--classifier-onnx")
        {
            Description = "ONNX image classifier with one input [N, 1 or 3, H, W] and class logits [N, classes], for inception_score.",
        };
        var sizeOption = new Option<int>("--image-size")
        {
            Description = "Side in pixels that every image is resized to first; 0: the side of the first generated image.",
            DefaultValueFactory = _ => 0,
        };
        var subsetsOption = new Option<int>("--kid-subsets")
        {
            Description = "Random subsets per KID estimate.",
            DefaultValueFactory = _ => Kid.DefaultSubsets,
        };
        var subsetSizeOption = new Option<int>("--kid-subset-size")
        {
            Description = "Samples per KID subset, capped at the smaller folder.",
            DefaultValueFactory = _ => Kid.DefaultSubsetSize,
        };
        var seedOption = new Option<int>("--seed")
        {
            Description = "Seed of the KID subsets.",
            DefaultValueFactory = _ => 0,
        };
        var jsonOption = new Option<bool>("--json")
        {
            Description = "Print one JSON object instead of text.",
        };

        var command = new Command(
            "score-images",
            "Score a folder of generated images: KID or FID on ResNet18 ImageNet features against a folder of real images, or the Inception Score of an ONNX classifier.")
        {
            fakeOption, realOption, typeOption, classifierOption, sizeOption, subsetsOption, subsetSizeOption, seedOption, jsonOption,
        };
        command.SetAction((parseResult, _) => LipizzanerCommand.Execute((logger, _) => Task.FromResult(Score(
            parseResult.GetValue(fakeOption)!,
            parseResult.GetValue(realOption),
            parseResult.GetValue(typeOption)!,
            parseResult.GetValue(classifierOption),
            parseResult.GetValue(sizeOption),
            new KidSettings(parseResult.GetValue(subsetsOption), parseResult.GetValue(subsetSizeOption), (ulong)(uint)parseResult.GetValue(seedOption)),
            parseResult.GetValue(jsonOption),
            logger))));
        return command;
    }

    private static int Score(
        DirectoryInfo fake, DirectoryInfo? real, string type, FileInfo? classifierFile, int imageSize, KidSettings kid, bool json, ILogger logger)
    {
        var kind = type switch
        {
            "kid" => ScoreKind.Kid,
            "fid_resnet" => ScoreKind.ResNetFid,
            "inception_score" => ScoreKind.InceptionScore,
            _ => throw new ArgumentException($"--type {type} is invalid; expected one of kid, fid_resnet, inception_score."),
        };
        if (kid.Subsets < 1 || kid.SubsetSize < 2)
        {
            throw new ArgumentException($"--kid-subsets {kid.Subsets} and --kid-subset-size {kid.SubsetSize} are invalid; pass at least 1 and 2.");
        }

        TorchSetup.Configure(1);
        int side = imageSize > 0 ? imageSize : ImageFolders.FirstImageSide(fake.FullName, "--fake");
        using var fakeImages = Load(fake.FullName, side, logger);
        ScoreResult result;
        int realCount = 0;
        if (kind == ScoreKind.InceptionScore)
        {
            if (classifierFile is null)
            {
                throw new ArgumentException("--type inception_score needs --classifier-onnx FILE.");
            }

            using var classifier = OnnxClassifier.Load(classifierFile.FullName, Environment.ProcessorCount);
            using var scorer = new InceptionScorer(classifier);
            result = scorer.Score(fakeImages.Images);
        }
        else
        {
            if (real is null)
            {
                throw new ArgumentException($"--type {type} needs --real DIR, the real images to compare with.");
            }

            using var realImages = Load(real.FullName, side, logger);
            using var features = ResNet18Features.Load(Environment.ProcessorCount);
            using var realFeatures = features.Extract(realImages.Images);
            using var scorer = new ResNetFeatureScorer(kind, features, realFeatures, kid);
            result = scorer.Score(fakeImages.Images);
            realCount = realImages.Count;
        }

        string label = ScoreKinds.Label(kind);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["type"] = ScoreKinds.ConfigName(kind),
                ["score"] = result.Value,
                ["spread"] = double.IsNaN(result.Spread) ? null : result.Spread,
                ["higher_is_better"] = ScoreKinds.HigherIsBetter(kind),
                ["generated"] = fakeImages.Count,
                ["real"] = realCount,
                ["image_size"] = side,
            }));
        }
        else
        {
            string spread = double.IsNaN(result.Spread) ? "" : string.Create(CultureInfo.InvariantCulture, $" ± {result.Spread:G4}");
            string against = realCount > 0 ? string.Create(CultureInfo.InvariantCulture, $" against {realCount} real images") : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label} {result.Value:G6}{spread} ({fakeImages.Count} generated images{against}, {side}x{side}; {(ScoreKinds.HigherIsBetter(kind) ? "higher" : "lower")} is better)"));
        }

        return LipizzanerCommand.Success;
    }

    private static ImageFolderDataset Load(string folder, int side, ILogger logger) =>
        ImageFolderDataset.Load(new ImageFolderOptions(folder, side), logger);
}
