using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.Interop;
using Lipizzaner.Core.IO;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Interop;

/// <summary>
/// The original Lipizzaner's pretrained files, saved by old PyTorch in the legacy format: a classifier
/// saved on the CPU with <c>_rebuild_tensor</c>, and generators saved from CUDA with <c>_rebuild_tensor_v2</c>.
/// </summary>
public sealed class ReferenceStateDictTests
{
    private static readonly string[] GeneratorKeys = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"];
    private static readonly long[][] GeneratorShapes = [[256, 64], [256], [256, 256], [256], [784, 256], [784]];
    private static readonly string[] ClassifierKeys =
        ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];
    private static readonly long[][] ClassifierShapes = [[10, 1, 5, 5], [10], [20, 10, 5, 5], [20], [50, 320], [50], [10, 50], [10]];

    public ReferenceStateDictTests() => TorchSetup.Configure(1);

    public static TheoryData<int> GeneratorIndices => new() { 0, 1, 2, 3, 4, 5, 6 };

    [Theory]
    [MemberData(nameof(GeneratorIndices))]
    public void Read_ReferenceGenerator_Is4lpStateDict(int index)
    {
        var entries = PyTorchStateDict.Read(SharedReference.File($"mnist-generator-{index:D3}.pkl"));
        try
        {
            Assert.Equal(GeneratorKeys, entries.Select(entry => entry.Name));
            Assert.Equal(GeneratorShapes, entries.Select(entry => entry.Tensor.shape));
            Assert.All(entries, entry => Assert.Equal(ScalarType.Float32, entry.Tensor.dtype));
            Assert.All(entries, entry => Assert.Equal(DeviceType.CPU, entry.Tensor.device_type));
            Assert.All(entries, entry => Assert.True(entry.Tensor.isfinite().all().item<bool>(), entry.Name));
        }
        finally
        {
            Dispose(entries);
        }
    }

    [Fact]
    public void Read_ReferenceClassifier_HasOriginalKeys()
    {
        var entries = PyTorchStateDict.Read(SharedReference.File("mnist_cnn.pkl"));
        try
        {
            Assert.Equal(ClassifierKeys, entries.Select(entry => entry.Name));
            Assert.Equal(ClassifierShapes, entries.Select(entry => entry.Tensor.shape));
            Assert.All(entries, entry => Assert.Equal(ScalarType.Float32, entry.Tensor.dtype));
            Assert.Equal(21_840, entries.Sum(entry => entry.Tensor.numel()));
        }
        finally
        {
            Dispose(entries);
        }
    }

    [Fact]
    public void LoadInto_Generator000_MatchesPyTorchOutput()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        PyTorchStateDict.LoadInto(generator, SharedReference.File("mnist-generator-000.pkl"));
        generator.eval();
        float[] latent = SharedReference.ReadLatents()[..64];

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        float[] pixels = generator.call(torch.tensor(latent, [1, 64])).data<float>().ToArray();

        Assert.Equal(784, pixels.Length);
        AssertClose([-1, -0.999940336, -1, -1, -1], pixels[..5], 1e-6);
        AssertClose([0.990272164, 0.995595038, 0.725801289, -0.960529745, -0.999943912], pixels[350..355], 1e-6);
    }

    [Fact]
    public async Task LoadInto_Classifier_MatchesPyTorchLogits()
    {
        string directory = await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, NullLogger.Instance);
        using var test = MnistDataset.Load(directory, MnistSplit.Test);
        using var classifier = new MnistClassifier();
        PyTorchStateDict.LoadInto(classifier, SharedReference.File("mnist_cnn.pkl"));

        using var scope = torch.NewDisposeScope();
        float[] logits = classifier.Logits(torch.tensor(test.GetScaledImage(0), [1, 784])).data<float>().ToArray();

        double[] expected =
            [-8.94826126, -0.788558125, 1.16436505, -0.775327861, 0.841700196, -5.71991158, -16.2284451, 20.2657452, -3.71753407, 2.88763618];
        Assert.Equal(expected.Length, logits.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(logits[i] - expected[i]) <= 1e-5 * Math.Abs(expected[i]), $"logit {i}: {logits[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Read_NonSeekableStream_MatchesPath()
    {
        string path = SharedReference.File("mnist_cnn.pkl");
        var fromPath = PyTorchStateDict.Read(path);
        using var stream = new NonSeekableStream(File.ReadAllBytes(path));
        var fromStream = PyTorchStateDict.Read(stream);
        try
        {
            Assert.Equal(fromPath.Select(entry => entry.Name), fromStream.Select(entry => entry.Name));
            Assert.All(fromPath.Zip(fromStream), pair => Assert.True(TensorAssert.Identical(pair.First.Tensor, pair.Second.Tensor)));
        }
        finally
        {
            Dispose(fromPath);
            Dispose(fromStream);
        }
    }

    internal static void Dispose(IEnumerable<(string Name, Tensor Tensor)> entries)
    {
        foreach (var (_, tensor) in entries)
        {
            tensor.Dispose();
        }
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    /// <summary>A read-only stream that cannot seek, like a network stream.</summary>
    private sealed class NonSeekableStream(byte[] content) : MemoryStream(content, writable: false)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
