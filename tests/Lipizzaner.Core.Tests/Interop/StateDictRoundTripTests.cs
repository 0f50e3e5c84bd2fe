using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Interop;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Interop;

public sealed class StateDictRoundTripTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public StateDictRoundTripTests() => TorchSetup.Configure(1);

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> Networks => new() { "4lp generator", "4lp discriminator", "cnn28 generator", "classifier" };

    [Theory]
    [MemberData(nameof(Networks))]
    public void SaveThenLoad_Network_IsIdentical(string network)
    {
        torch.manual_seed(11);
        using var original = Create(network);
        torch.manual_seed(12);
        using var copy = Create(network);
        string path = Path.Combine(_directory.Path, "network.pt");

        PyTorchStateDict.Save(original, path);
        PyTorchStateDict.LoadInto(copy, path);

        var expected = original.state_dict();
        var actual = copy.state_dict();
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.All(expected, pair => Assert.True(TensorAssert.Identical(pair.Value, actual[pair.Key]), pair.Key));
        original.eval();
        copy.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var input = torch.randn(3, InputSize(network));
        Assert.True(TensorAssert.Identical(original.call(input), copy.call(input)));
    }

    [Fact]
    public void Save_Classifier_KeepsOriginalKeyOrder()
    {
        using var classifier = new MnistClassifier();
        string path = Path.Combine(_directory.Path, "classifier.pt");

        PyTorchStateDict.Save(classifier, path);
        var entries = PyTorchStateDict.Read(path);

        try
        {
            Assert.Equal(
                ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
                entries.Select(entry => entry.Name));
        }
        finally
        {
            ReferenceStateDictTests.Dispose(entries);
        }
    }

    [Fact]
    public void Save_BatchNorm_UsesPyTorchKeyOrder()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.Cnn28);
        string path = Path.Combine(_directory.Path, "cnn28.pt");

        PyTorchStateDict.Save(generator, path);
        var entries = PyTorchStateDict.Read(path);

        try
        {
            Assert.Equal(
                ["1.weight", "1.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked", "4.weight"],
                entries.Take(8).Select(entry => entry.Name));
            Assert.Equal(ScalarType.Int64, entries[6].Tensor.dtype);
            Assert.Empty(entries[6].Tensor.shape);
            Assert.Equal(generator.state_dict().Keys.Order(StringComparer.Ordinal), entries.Select(entry => entry.Name).Order(StringComparer.Ordinal));
        }
        finally
        {
            ReferenceStateDictTests.Dispose(entries);
        }
    }

    [Fact]
    public void WriteThenRead_AnyLayout_KeepsValues()
    {
        using var scope = torch.NewDisposeScope();
        var matrix = torch.arange(24, dtype: ScalarType.Float32).reshape(4, 6);
        (string, Tensor)[] written =
        [
            ("transposed", matrix.t()),
            ("slice", matrix[TensorIndex.Slice(1, 3), TensorIndex.Slice(2, 5)]),
            ("float64", torch.randn(3, 2, dtype: ScalarType.Float64)),
            ("float16", torch.randn(5).to(ScalarType.Float16)),
            ("bfloat16", torch.randn(5).to(ScalarType.BFloat16)),
            ("int64 scalar", torch.tensor(7L)),
            ("bool", torch.tensor(new[] { true, false, true })),
            ("empty", torch.zeros(0, 3)),
            ("expanded", torch.tensor(new[] { 1f, 2f, 3f }).expand(4, 3)),
        ];
        string path = Path.Combine(_directory.Path, "layouts.pt");

        PyTorchStateDict.Write(path, written);
        var read = PyTorchStateDict.Read(path);

        try
        {
            Assert.Equal(written.Select(entry => entry.Item1), read.Select(entry => entry.Name));
            foreach (var ((_, expected), (name, actual)) in written.Zip(read))
            {
                Assert.Equal(expected.dtype, actual.dtype);
                Assert.True(TensorAssert.Identical(expected, actual), name);
                Assert.True(actual.is_contiguous(), name);
            }
        }
        finally
        {
            ReferenceStateDictTests.Dispose(read);
        }
    }

    [Fact]
    public void Write_IsDeterministic()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        string first = Path.Combine(_directory.Path, "first.pt");
        string second = Path.Combine(_directory.Path, "second.pt");

        PyTorchStateDict.Save(generator, first);
        PyTorchStateDict.Save(generator, second);

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
    }

    [Fact]
    public void Write_RepeatedName_Throws()
    {
        using var tensor = torch.zeros(2);
        string path = Path.Combine(_directory.Path, "repeated.pt");

        var error = Assert.Throws<ArgumentException>(() => PyTorchStateDict.Write(path, [("a", tensor), ("a", tensor)]));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void LoadInto_WrongNetwork_ListsKeys()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var before = generator.state_dict()["0.weight"].clone();
        string path = SharedReference.File("mnist_cnn.pkl");

        var error = Assert.Throws<InvalidDataException>(() => PyTorchStateDict.LoadInto(generator, path));

        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("missing keys (in the network, not in the file): 0.weight, 0.bias, 2.weight, 2.bias, 4.weight, 4.bias", error.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected keys (in the file, not in the network): conv1.weight, conv1.bias, conv2.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("key mapping", error.Message, StringComparison.Ordinal);
        Assert.True(TensorAssert.Identical(before, generator.state_dict()["0.weight"]));
    }

    [Fact]
    public void LoadInto_WrongSizes_ListsBothShapes()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FiveLayerPerceptron);
        using var before = generator.state_dict()["0.weight"].clone();

        var error = Assert.Throws<InvalidDataException>(
            () => PyTorchStateDict.LoadInto(generator, SharedReference.File("mnist-generator-000.pkl")));

        Assert.Contains("missing keys (in the network, not in the file): 6.weight, 6.bias", error.Message, StringComparison.Ordinal);
        Assert.Contains("4.weight is [784, 256] in the file but [512, 256] in the network", error.Message, StringComparison.Ordinal);
        Assert.Contains("4.bias is [784] in the file but [512] in the network", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected keys", error.Message, StringComparison.Ordinal);
        Assert.True(TensorAssert.Identical(before, generator.state_dict()["0.weight"]), "a failed load must leave the network unchanged");
    }

    [Fact]
    public void LoadInto_Float64File_ConvertsToNetworkDtype()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var copy = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var scope = torch.NewDisposeScope();
        string path = Path.Combine(_directory.Path, "float64.pt");
        PyTorchStateDict.Write(path, generator.state_dict().Select(pair => (pair.Key, pair.Value.to(ScalarType.Float64))));

        PyTorchStateDict.LoadInto(copy, path);

        Assert.All(copy.state_dict(), pair => Assert.Equal(ScalarType.Float32, pair.Value.dtype));
        Assert.All(generator.state_dict(), pair => Assert.True(TensorAssert.Identical(pair.Value, copy.state_dict()[pair.Key]), pair.Key));
    }

    [Fact]
    public void LoadInto_KeyMapping_RenamesAndSkips()
    {
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var copy = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var scope = torch.NewDisposeScope();
        var renamed = generator.state_dict().Select(pair => ("module." + pair.Key, pair.Value.clone())).Append(("extra", torch.zeros(1))).ToList();
        string path = Path.Combine(_directory.Path, "renamed.pt");
        PyTorchStateDict.Write(path, renamed);

        PyTorchStateDict.LoadInto(copy, path, key => key.StartsWith("module.", StringComparison.Ordinal) ? key["module.".Length..] : null);

        Assert.All(generator.state_dict(), pair => Assert.True(TensorAssert.Identical(pair.Value, copy.state_dict()[pair.Key]), pair.Key));
    }

    private static nn.Module<Tensor, Tensor> Create(string network) => network switch
    {
        "4lp generator" => NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron),
        "4lp discriminator" => NetworkFactory.CreateDiscriminator(NetworkKind.FourLayerPerceptron),
        "cnn28 generator" => NetworkFactory.CreateGenerator(NetworkKind.Cnn28),
        "classifier" => new MnistClassifier(),
        _ => throw new ArgumentOutOfRangeException(nameof(network), network, null),
    };

    private static int InputSize(string network) => network switch
    {
        "4lp generator" => 64,
        "cnn28 generator" => 100,
        _ => 784,
    };
}
