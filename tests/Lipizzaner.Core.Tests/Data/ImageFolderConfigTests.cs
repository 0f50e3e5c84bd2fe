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
    public void ScoreEnabled_Rejected()
    {
        var exception = LoadInvalid(Valid, "trainer.params.score.enabled=true");

        string error = Assert.Single(exception.Errors);
        Assert.StartsWith("trainer.params.score.enabled: true is invalid", error, StringComparison.Ordinal);
        Assert.Contains("MNIST", error, StringComparison.Ordinal);
        Assert.Contains("set trainer.params.score.enabled: false", error, StringComparison.Ordinal);
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
