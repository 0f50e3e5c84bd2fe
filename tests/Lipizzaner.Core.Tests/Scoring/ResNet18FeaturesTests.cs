using Lipizzaner.Core.Data;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Data;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Scoring;

/// <summary>The ResNet18 ImageNet feature model of the NuGet package, run on real chest X-rays.</summary>
public sealed class ResNet18FeaturesTests : IClassFixture<ResNet18FeaturesTests.Model>
{
    private readonly Model _model;

    public ResNet18FeaturesTests(Model model)
    {
        _model = model;
    }

    [Fact]
    public void Extract_IsDeterministicAndBatchIndependent()
    {
        using var images = _model.Images.narrow(0, 0, 6);

        using var first = _model.Features.Extract(images);
        using var second = _model.Features.Extract(images);
        using var alone = _model.Features.Extract(images.narrow(0, 3, 1));

        Assert.Equal(new long[] { 6, ResNet18Features.FeatureCount }, first.shape);
        Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());
        Assert.Equal(first[3].data<float>().ToArray(), alone[0].data<float>().ToArray());
    }

    [Fact]
    public void Extract_FeaturesArePooledActivations()
    {
        using var images = _model.Images.narrow(0, 0, 4);

        using var features = _model.Features.Extract(images);

        Assert.True(features.isfinite().all().item<bool>());
        Assert.True(features.min().item<float>() >= 0, "pooled ReLU outputs are never negative");
        Assert.True(features.sum(1).min().item<float>() > 0, "every image activates some features");
        Assert.True((features[0] - features[1]).abs().max().item<float>() > 1e-3, "two X-rays give different features");
    }

    [Fact]
    public void Extract_SeparatesXraysFromNoise()
    {
        using var xrays = _model.Images.narrow(0, 0, 24);
        using var moreXrays = _model.Images.narrow(0, 24, 24);
        using var random = new torch.Generator(5);
        using var noise = (torch.rand([24, xrays.shape[1]], generator: random) * 2) - 1;

        using var real = _model.Features.Extract(xrays);
        using var real2 = _model.Features.Extract(moreXrays);
        using var fake = _model.Features.Extract(noise);
        var betweenXrays = Kid.Compute(real, real2, subsets: 10, subsetSize: 24);
        var xraysAndNoise = Kid.Compute(real, fake, subsets: 10, subsetSize: 24);

        Assert.True(xraysAndNoise.Mean > 10 * Math.Abs(betweenXrays.Mean),
            $"KID X-rays vs noise {xraysAndNoise.Mean}, X-rays vs X-rays {betweenXrays.Mean}");
    }

    [Fact]
    public void ResizeTo224_MapsTheTanhRangeTo0To255()
    {
        using var black = torch.full([1, 64 * 64], -1f);
        using var white = torch.full([1, 64 * 64], 1f);

        using var blackResized = ResNet18Features.ResizeTo224(black);
        using var whiteResized = ResNet18Features.ResizeTo224(white);

        Assert.Equal(new long[] { 1, 224 * 224 }, blackResized.shape);
        Assert.Equal(0f, blackResized.max().item<float>());
        Assert.Equal(255f, whiteResized.min().item<float>(), 1e-3f);
    }

    [Fact]
    public void ResNetFid_AtMost512Samples_PointsToKid()
    {
        using var real = torch.rand([190, ResNet18Features.FeatureCount]);

        var error = Assert.Throws<ArgumentException>(() => new ResNetFeatureScorer(ScoreKind.ResNetFid, _model.Features, real));

        Assert.Contains("more than 512 samples", error.Message, StringComparison.Ordinal);
        Assert.Contains("190", error.Message, StringComparison.Ordinal);
        Assert.Contains("kid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KidScorer_ScoresImagesAgainstRealFeatures()
    {
        using var real = _model.Features.Extract(_model.Images.narrow(0, 0, 16));
        using var scorer = new ResNetFeatureScorer(ScoreKind.Kid, _model.Features, real, new KidSettings(Subsets: 5, SubsetSize: 8));

        var same = scorer.Score(_model.Images.narrow(0, 16, 8));
        var flipped = scorer.Score(-_model.Images.narrow(0, 16, 8));

        Assert.Equal(ScoreKind.Kid, scorer.Kind);
        Assert.True(double.IsNaN(same.Tvd));
        Assert.True(same.Spread > 0);
        Assert.True(flipped.Value > same.Value, $"KID of inverted X-rays {flipped.Value}, of X-rays {same.Value}");
    }

    /// <summary>The model, loaded once, and 48 shared positive X-rays at 64 × 64.</summary>
    public sealed class Model : IDisposable
    {
        private readonly ImageFolderDataset _dataset;

        public Model()
        {
            TorchSetup.Configure(1);
            Features = ResNet18Features.Load();
            _dataset = ImageFolderDataset.Load(new ImageFolderOptions(ImageFolderTestImages.PositiveFolder(), 64), NullLogger.Instance);
            Images = _dataset.Images.narrow(0, 0, 48);
        }

        public ResNet18Features Features { get; }

        public Tensor Images { get; }

        public void Dispose()
        {
            Features.Dispose();
            Images.Dispose();
            _dataset.Dispose();
        }
    }
}
