using Lipizzaner.Core.Scoring;
using static Lipizzaner.Core.Tests.Configuration.ConfigTestSupport;

namespace Lipizzaner.Core.Tests.Data;

public sealed class ImageFolderConfigTests
{
    private const string Valid = """
        trainer:
          params:
            score:
              enabled: false
        dataloader:
          dataset_name: image_folder
          path: /data/xrays
        """;

    [Fact]
    public void ValidImageFolderConfig_LoadsWithDefaults()
    {
        var result = Load(Valid);
        var data = result.Config.DataLoader;

        Assert.Empty(result.Warnings);
        Assert.Equal("image_folder", data.DatasetName);
        Assert.Equal("/data/xrays", data.Path);
        Assert.Equal(0, data.ImageSize);
        Assert.Equal(Lipizzaner.Core.Configuration.ImageResizePolicy.CenterCrop, data.ResizePolicy);
        Assert.False(data.Strict);
        Assert.Equal(0, data.SmoteAugmentationTimes);
        Assert.Equal(5, data.SmoteNeighbours);
        Assert.Equal(0, data.GaussianAugmentationTimes);
    }

    [Fact]
    public void MissingPath_IsAnErrorNamingTheKey()
    {
        var exception = LoadInvalid(Valid, "dataloader.path=");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("dataloader.path: an empty value is invalid; expected a folder", error, StringComparison.Ordinal);
    }

    [Fact]
    public void MnistFid_Rejected()
    {
        var exception = LoadInvalid(Valid, "trainer.params.score.enabled=true");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("trainer.params.score.type: fid is invalid with dataloader.dataset_name image_folder", error, StringComparison.Ordinal);
        Assert.Contains("MNIST", error, StringComparison.Ordinal);
        Assert.Contains("trainer.params.score.type: kid", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kid", ScoreKind.Kid)]
    [InlineData("fid_resnet", ScoreKind.ResNetFid)]
    public void ResNetScores_Accepted(string type, ScoreKind expected)
    {
        var result = Load(Valid, "trainer.params.score.enabled=true", $"trainer.params.score.type={type}");

        Assert.Equal(expected, result.Config.Trainer.Params.Score.Type);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void ResNetFid_SmallSampleCount_PointsToKid()
    {
        var exception = LoadInvalid(
            Valid, "trainer.params.score.enabled=true", "trainer.params.score.type=fid_resnet", "trainer.params.score.score_sample_size=190");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("trainer.params.score.score_sample_size: 190 is invalid with trainer.params.score.type fid_resnet", error, StringComparison.Ordinal);
        Assert.Contains("more than 512", error, StringComparison.Ordinal);
        Assert.Contains("kid", error, StringComparison.Ordinal);
    }

    [Fact]
    public void InceptionScore_NeedsClassifier()
    {
        var exception = LoadInvalid(Valid, "trainer.params.score.enabled=true", "trainer.params.score.type=inception_score");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("trainer.params.score.classifier_onnx: an empty value is invalid", error, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownScoreType_ListsTheChoices()
    {
        var exception = LoadInvalid(Valid, "trainer.params.score.type=precision");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("trainer.params.score.type: precision is invalid; expected one of fid, kid, fid_resnet, inception_score", error, StringComparison.Ordinal);
    }

    [Fact]
    public void KidSubsetSizeBelowTwo_IsAnError()
    {
        var exception = LoadInvalid(Valid, "trainer.params.score.kid_subset_size=1");

        Assert.StartsWith("trainer.params.score.kid_subset_size: 1 is invalid", Assert.Single(exception.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void BadResizePolicy_NamesKeyValueAndChoices()
    {
        var exception = LoadInvalid(Valid, "dataloader.resize_policy=stretch");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("dataloader.resize_policy: stretch is invalid; expected one of center_crop, pad", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4lp", "64", "28")]
    [InlineData("cnn64", "28", "64")]
    public void ImageSizeOtherThanTheNetworks_IsAnError(string network, string size, string expected)
    {
        var exception = LoadInvalid(Valid, $"network.name={network}", $"dataloader.image_size={size}");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith($"dataloader.image_size: {size} is invalid; expected 0 (the network's size) or {expected}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4lp", "28")]
    [InlineData("cnn128", "128")]
    [InlineData("cnn64", "0")]
    public void ImageSizeOfTheNetworkOrZero_IsValid(string network, string size)
    {
        Assert.Empty(Load(Valid, $"network.name={network}", $"dataloader.image_size={size}").Warnings);
    }

    [Fact]
    public void MnistIgnoresTheImageFolderKeys()
    {
        var result = Load("dataloader:\n  dataset_name: mnist\n  image_size: 64\n");

        Assert.Empty(result.Warnings);
    }
}
