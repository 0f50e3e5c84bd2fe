using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lipizzaner.Core.Tests.Support;

/// <summary>
/// Real MNIST (fetched into the user cache and verified on first use) and the FID classifier
/// (trained into the user cache on first use), shared by the tests that need them.
/// </summary>
public sealed class MnistFixture : IDisposable
{
    public MnistFixture()
    {
        TorchSetup.Configure(1);
        DataDirectory = MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, NullLogger.Instance).GetAwaiter().GetResult();
        Train = MnistDataset.Load(DataDirectory, MnistSplit.Train);
        Test = MnistDataset.Load(DataDirectory, MnistSplit.Test);
        (Classifier, ClassifierInfo) = ClassifierStore.LoadOrTrain(
            ClassifierStore.DefaultDirectory, Train, Test, new ClassifierTrainingOptions(), NullLogger.Instance);
    }

    public string DataDirectory { get; }

    public MnistDataset Train { get; }

    public MnistDataset Test { get; }

    public MnistClassifier Classifier { get; }

    public ClassifierInfo ClassifierInfo { get; }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
        Classifier.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class MnistTestGroup : ICollectionFixture<MnistFixture>
{
    public const string Name = "MNIST";
}
