using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Scoring;

[Collection(MnistTestGroup.Name)]
public sealed class ClassifierScoringTests(MnistFixture mnist)
{
    [Fact]
    public void Classifier_ReachesHighTestAccuracy()
    {
        var (correct, total) = ClassifierStore.Evaluate(mnist.Classifier, mnist.Test);

        Assert.Equal(10_000, total);
        Assert.True(correct >= 9700, $"classifier labels only {correct} of {total} test images correctly");
        Assert.Equal(correct, mnist.ClassifierInfo.Correct);
    }

    [Fact]
    public void Fid_TrainAgainstTest_IsSmall()
    {
        using var scope = torch.NewDisposeScope();
        var train = FidScorer.Statistics(mnist.Classifier, mnist.Train.Images.narrow(0, 0, 5000));
        var test = FidScorer.Statistics(mnist.Classifier, mnist.Test.Images.narrow(0, 0, 5000));

        Assert.InRange(Fid.Distance(train, test), 1e-6, 5.0);
        Assert.InRange(Fid.TotalVariation(train, test), 0, 0.05);
    }

    [Fact]
    public void Fid_CollapsedToOneDigit_IsHighWithTvdNearNineTenths()
    {
        using var scope = torch.NewDisposeScope();
        long[] ones = Enumerable.Range(0, mnist.Train.Count).Where(i => mnist.Train.Labels[i] == 1).Take(2000).Select(i => (long)i).ToArray();
        var collapsed = mnist.Train.Images.index_select(0, torch.tensor(ones));
        var real = FidScorer.Statistics(mnist.Classifier, mnist.Train.Images.narrow(0, 10_000, 5000));
        var realOther = FidScorer.Statistics(mnist.Classifier, mnist.Train.Images.narrow(0, 20_000, 5000));
        var fake = FidScorer.Statistics(mnist.Classifier, collapsed);

        double collapsedFid = Fid.Distance(real, fake);
        double baselineFid = Fid.Distance(real, realOther);

        // Digit 1 is about 11 % of MNIST, so one class holding everything gives TVD ≈ 1 − 0.11.
        Assert.InRange(Fid.TotalVariation(real, fake), 0.85, 0.92);
        Assert.True(collapsedFid > 50 * baselineFid, $"collapsed FID {collapsedFid} vs real-vs-real {baselineFid}");
    }
}
