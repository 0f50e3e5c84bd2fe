using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Interop;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Scoring;

/// <summary>
/// Figures measured with the original Python Lipizzaner (PyTorch 1.13.1 on the CPU), reproduced with its
/// MNIST classifier <c>mnist_cnn.pkl</c>, its pretrained 4lp generators and its saved latent noise. The
/// original computed features in batches of 64 and dropped the remainder; "all" uses every sample.
/// </summary>
[Collection(MnistTestGroup.Name)]
public sealed class ReferenceFigureTests(MnistFixture mnist) : IDisposable
{
    private const double RelativeTolerance = 1e-5;

    private readonly MnistClassifier _original = LoadOriginalClassifier();

    [Fact]
    public void OriginalClassifier_ReproducesTestAccuracies()
    {
        Assert.Equal(9927, ClassifierStore.Evaluate(_original, mnist.Test).Correct);

        using var scope = torch.NewDisposeScope();
        var unit = (mnist.Test.Images + 1) / 2;
        Assert.Equal(9715, Correct(unit));
        Assert.Equal(9807, Correct((unit - 0.1307) / 0.3081));
    }

    [Fact]
    public void OriginalClassifier_ReproducesLogits()
    {
        using var scope = torch.NewDisposeScope();
        float[] test0 = _original.Logits(mnist.Test.Images.narrow(0, 0, 1)).data<float>().ToArray();
        float[] train0 = _original.Logits(mnist.Train.Images.narrow(0, 0, 1)).data<float>().ToArray();

        AssertClose([-8.94826126, -0.788558125, 1.16436505, -0.775327861, 0.841700196, -5.71991158, -16.2284451, 20.2657452, -3.71753407, 2.88763618], test0);
        AssertClose([-7.5191021, -5.7426486, -6.96064949, 12.3005819, -7.75592661], train0[..5]);
    }

    [Theory]
    [InlineData(true, 0.519877, 0.0140224)]
    [InlineData(false, 0.522200, double.NaN)]
    public void Fid_TrainAgainstTest_MatchesReference(bool dropRemainder, double expectedFid, double expectedTvd)
    {
        using var scope = torch.NewDisposeScope();
        var train = FidScorer.Statistics(_original, mnist.Train.Images.narrow(0, 0, 10000), dropRemainder);
        var test = FidScorer.Statistics(_original, mnist.Test.Images.narrow(0, 0, 10000), dropRemainder);

        Assert.Equal(dropRemainder ? 9984 : 10000, train.SampleCount);
        AssertRelative(expectedFid, Fid.Distance(train, test));
        if (!double.IsNaN(expectedTvd))
        {
            AssertRelative(expectedTvd, Fid.TotalVariation(train, test));
        }
    }

    [Theory]
    [InlineData(true, 1.78585, 0.0262420)]
    [InlineData(false, 1.75550, double.NaN)]
    public void Fid_TrainHalves_MatchesReference(bool dropRemainder, double expectedFid, double expectedTvd)
    {
        using var scope = torch.NewDisposeScope();
        var first = FidScorer.Statistics(_original, mnist.Train.Images.narrow(0, 0, 5000), dropRemainder);
        var second = FidScorer.Statistics(_original, mnist.Train.Images.narrow(0, 5000, 5000), dropRemainder);

        Assert.Equal(dropRemainder ? 4992 : 5000, first.SampleCount);
        AssertRelative(expectedFid, Fid.Distance(first, second));
        if (!double.IsNaN(expectedTvd))
        {
            AssertRelative(expectedTvd, Fid.TotalVariation(first, second));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fid_SameTestSet_IsExactlyZero(bool dropRemainder)
    {
        using var scope = torch.NewDisposeScope();
        var first = FidScorer.Statistics(_original, mnist.Test.Images.narrow(0, 0, 1000), dropRemainder);
        var second = FidScorer.Statistics(_original, mnist.Test.Images.narrow(0, 0, 1000).clone(), dropRemainder);

        Assert.Equal(dropRemainder ? 960 : 1000, first.SampleCount);
        Assert.Equal(0.0, Fid.Distance(first, second));
        Assert.Equal(0.0, Fid.Distance(second, first));
        Assert.Equal(0.0, Fid.TotalVariation(first, second));
    }

    [Theory]
    [InlineData(0, 37.9173, 37.8427, 0.109876)]
    [InlineData(1, 31.8278, 31.8023, 0.0834335)]
    [InlineData(2, 38.0917, 37.9368, 0.108474)]
    [InlineData(3, 39.4901, 39.4711, 0.116486)]
    [InlineData(4, 37.5522, 37.4558, 0.108774)]
    [InlineData(5, 37.9077, 37.8726, 0.109876)]
    [InlineData(6, 35.4572, 35.4983, 0.100361)]
    public void Fid_PretrainedGenerator_MatchesReference(int index, double droppedFid, double allFid, double droppedTvd)
    {
        using var generator = LoadGenerator(index);
        using var scope = torch.NewDisposeScope();
        var latents = torch.tensor(SharedReference.ReadLatents(), [10000, 64]);
        var samples = GeneratorScoring.Generate([generator], [1.0], latents);
        var real = mnist.Train.Images.narrow(0, 0, 10000);

        var realDropped = FidScorer.Statistics(_original, real, dropRemainder: true);
        var fakeDropped = FidScorer.Statistics(_original, samples, dropRemainder: true);
        var realAll = FidScorer.Statistics(_original, real);
        var fakeAll = FidScorer.Statistics(_original, samples);

        AssertRelative(droppedFid, Fid.Distance(realDropped, fakeDropped));
        AssertRelative(allFid, Fid.Distance(realAll, fakeAll));
        AssertRelative(droppedTvd, Fid.TotalVariation(realDropped, fakeDropped));
    }

    [Fact]
    public void Generator000_ReproducesCheckVector()
    {
        using var generator = LoadGenerator(0);
        using var scope = torch.NewDisposeScope();
        var latent = torch.tensor(SharedReference.ReadLatents()[..64], [1, 64]);

        float[] pixels = GeneratorScoring.Generate([generator], [1.0], latent).data<float>().ToArray();

        AssertClose([-1, -0.999940336, -1, -1, -1], pixels[..5]);
        AssertClose([0.990272164, 0.995595038, 0.725801289, -0.960529745, -0.999943912], pixels[350..355]);
    }

    public void Dispose() => _original.Dispose();

    private static MnistClassifier LoadOriginalClassifier()
    {
        var classifier = new MnistClassifier();
        PyTorchStateDict.LoadInto(classifier, SharedReference.File("mnist_cnn.pkl"));
        classifier.eval();
        return classifier;
    }

    private static Sequential LoadGenerator(int index)
    {
        var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        PyTorchStateDict.LoadInto(generator, SharedReference.File($"mnist-generator-{index:D3}.pkl"));
        generator.eval();
        return generator;
    }

    private int Correct(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var predicted = _original.Logits(images).argmax(1);
        var labels = torch.tensor(mnist.Test.Labels.Select(label => (long)label).ToArray());
        return (int)predicted.eq(labels).sum().item<long>();
    }

    private static void AssertRelative(double expected, double actual) =>
        Assert.True(
            Math.Abs(actual - expected) <= RelativeTolerance * Math.Abs(expected),
            $"expected {expected} within {RelativeTolerance:E0} relative, got {actual}");

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(
                Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])),
                $"value {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
