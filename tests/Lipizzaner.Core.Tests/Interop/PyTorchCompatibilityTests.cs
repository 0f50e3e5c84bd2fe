using System.Security.Cryptography;
using System.Text.Json;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Interop;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Interop;

/// <summary>Files written here are loaded by real PyTorch, and files PyTorch writes are read here.</summary>
public sealed class PyTorchCompatibilityTests : IDisposable
{
    /// <summary>Loads each file with torch.load and prints its entries: key, shape, dtype and SHA-256 of the bytes.</summary>
    private const string DescribeScript = """
        import hashlib, json, sys, torch
        def load(path):
            try:
                return torch.load(path, weights_only=True)
            except TypeError:
                return torch.load(path)
        def digest(t):
            t = t.detach().contiguous()
            if t.dtype == torch.bfloat16:
                t = t.view(torch.int16)
            return hashlib.sha256(t.numpy().tobytes()).hexdigest()
        result = {}
        for path in sys.argv[1:]:
            sd = load(path)
            result[path] = [type(sd).__name__] + [[k, list(v.shape), str(v.dtype), digest(v)] for k, v in sd.items()]
        print(json.dumps(result))
        """;

    /// <summary>Loads a 4lp generator and the classifier strictly into PyTorch modules and prints their outputs.</summary>
    private const string ForwardScript = """
        import json, sys, torch
        from torch import nn
        import torch.nn.functional as F
        class Classifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 10, 5)
                self.conv2 = nn.Conv2d(10, 20, 5)
                self.fc1 = nn.Linear(320, 50)
                self.fc2 = nn.Linear(50, 10)
            def forward(self, x):
                x = F.relu(F.max_pool2d(self.conv1(x.view(-1, 1, 28, 28)), 2))
                x = F.relu(F.max_pool2d(self.conv2(x), 2))
                return self.fc2(F.relu(self.fc1(x.flatten(1))))
        def floats(path, width):
            return torch.frombuffer(bytearray(open(path, 'rb').read()), dtype=torch.float32).reshape(-1, width)
        generator = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                                  nn.Linear(256, 784), nn.Tanh())
        generator.load_state_dict(torch.load(sys.argv[1]), strict=True)
        classifier = Classifier()
        classifier.load_state_dict(torch.load(sys.argv[2]), strict=True)
        classifier.eval()
        with torch.no_grad():
            images = generator(floats(sys.argv[3], 64))
            logits = classifier(floats(sys.argv[4], 784))
        print(json.dumps({'images': images.double().flatten().tolist(), 'logits': logits.double().flatten().tolist()}))
        """;

    /// <summary>Saves views, shared storages, several dtypes and a parameter in both formats and prints what it saved.</summary>
    private const string SaveScript = """
        import json, sys, torch
        from collections import OrderedDict
        torch.manual_seed(0)
        base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
        sd = OrderedDict()
        sd['base'] = base
        sd['transposed'] = base.t()
        sd['slice'] = base[1:3, 2:5]
        sd['expanded'] = torch.tensor([1.0, 2.0, 3.0]).expand(4, 3)
        sd['float64'] = torch.randn(3, 2, dtype=torch.float64)
        sd['float16'] = torch.randn(5).half()
        sd['bfloat16'] = torch.randn(5).bfloat16()
        sd['int64'] = torch.tensor(7)
        sd['int32'] = torch.tensor([1, -2], dtype=torch.int32)
        sd['uint8'] = torch.tensor([0, 255], dtype=torch.uint8)
        sd['bool'] = torch.tensor([True, False])
        sd['empty'] = torch.zeros(0, 3)
        sd['requires_grad'] = torch.ones(2, requires_grad=True)
        sd['parameter'] = torch.nn.Linear(3, 2).weight
        torch.save(sd, sys.argv[1])
        torch.save(sd, sys.argv[2], _use_new_zipfile_serialization=False)
        print(json.dumps([[k, str(v.dtype)[6:], list(v.shape), list(v.stride()), v.storage_offset(),
                           v.detach().double().flatten().tolist()] for k, v in sd.items()]))
        """;

    private readonly TemporaryDirectory _directory = new();

    public PyTorchCompatibilityTests() => TorchSetup.Configure(1);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void TorchLoad_OurFiles_HaveSameBytes()
    {
        var modules = new Dictionary<string, nn.Module>
        {
            ["generator.pt"] = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron),
            ["discriminator.pt"] = NetworkFactory.CreateDiscriminator(NetworkKind.FourLayerPerceptron),
            ["cnn28.pt"] = NetworkFactory.CreateGenerator(NetworkKind.Cnn28),
            ["classifier.pt"] = new MnistClassifier(),
        };
        using var scope = torch.NewDisposeScope();
        var expected = modules.ToDictionary(
            pair => Path.Combine(_directory.Path, pair.Key),
            pair => pair.Value.state_dict().Select(entry => (entry.Key, entry.Value)).ToList());
        expected[Path.Combine(_directory.Path, "layouts.pt")] =
        [
            ("transposed", torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3).t()),
            ("float64", torch.randn(3, 2, dtype: ScalarType.Float64)),
            ("float16", torch.randn(4).to(ScalarType.Float16)),
            ("bfloat16", torch.randn(4).to(ScalarType.BFloat16)),
            ("int64", torch.tensor(5L)),
            ("bool", torch.tensor(new[] { true, false })),
            ("empty", torch.zeros(0, 2)),
        ];
        foreach (var (path, entries) in expected)
        {
            PyTorchStateDict.Write(path, entries);
        }

        using var described = JsonDocument.Parse(SystemTorch.Run(DescribeScript, [.. expected.Keys]));

        try
        {
            foreach (var (path, entries) in expected)
            {
                var seen = described.RootElement.GetProperty(path).EnumerateArray().ToList();
                Assert.Equal("OrderedDict", seen[0].GetString());
                Assert.Equal(entries.Count, seen.Count - 1);
                foreach (var ((name, tensor), python) in entries.Zip(seen.Skip(1)))
                {
                    Assert.Equal(name, python[0].GetString());
                    Assert.Equal(tensor.shape, python[1].EnumerateArray().Select(size => size.GetInt64()));
                    Assert.Equal(PythonDType(tensor.dtype), python[2].GetString());
                    Assert.True(Digest(tensor) == python[3].GetString(), $"{Path.GetFileName(path)} {name}: the bytes differ");
                }
            }
        }
        finally
        {
            foreach (var module in modules.Values)
            {
                module.Dispose();
            }
        }
    }

    [Fact]
    public void TorchLoad_OurNetworks_GiveSameOutputs()
    {
        torch.manual_seed(5);
        using var generator = NetworkFactory.CreateGenerator(NetworkKind.FourLayerPerceptron);
        using var classifier = new MnistClassifier();
        generator.eval();
        classifier.eval();
        string generatorPath = Path.Combine(_directory.Path, "generator.pt");
        string classifierPath = Path.Combine(_directory.Path, "classifier.pt");
        string latentPath = Path.Combine(_directory.Path, "latent.f32");
        string imagesPath = Path.Combine(_directory.Path, "images.f32");
        PyTorchStateDict.Save(generator, generatorPath);
        PyTorchStateDict.Save(classifier, classifierPath);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var latent = torch.randn(3, 64);
        var images = torch.rand(2, 784) * 2 - 1;
        File.WriteAllBytes(latentPath, latent.bytes.ToArray());
        File.WriteAllBytes(imagesPath, images.contiguous().bytes.ToArray());
        float[] ourImages = generator.call(latent).data<float>().ToArray();
        float[] ourLogits = classifier.Logits(images).data<float>().ToArray();

        using var outputs = JsonDocument.Parse(SystemTorch.Run(ForwardScript, generatorPath, classifierPath, latentPath, imagesPath));

        AssertClose(ourImages, outputs.RootElement.GetProperty("images"), 1e-5);
        AssertClose(ourLogits, outputs.RootElement.GetProperty("logits"), 1e-4);
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void Read_TorchSavedFile_MatchesPython(string format)
    {
        string zipPath = Path.Combine(_directory.Path, "saved-zip.pt");
        string legacyPath = Path.Combine(_directory.Path, "saved-legacy.pt");
        using var saved = JsonDocument.Parse(SystemTorch.Run(SaveScript, zipPath, legacyPath));
        var expected = saved.RootElement.EnumerateArray().ToList();

        var entries = PyTorchStateDict.Read(format == "zip" ? zipPath : legacyPath);

        try
        {
            Assert.Equal(expected.Select(entry => entry[0].GetString()), entries.Select(entry => entry.Name));
            foreach (var (python, (name, tensor)) in expected.Zip(entries))
            {
                Assert.Equal(python[1].GetString(), PythonDType(tensor.dtype)[6..]);
                Assert.Equal(python[2].EnumerateArray().Select(size => size.GetInt64()), tensor.shape);
                Assert.Equal(python[3].EnumerateArray().Select(stride => stride.GetInt64()), tensor.stride());
                Assert.Equal(python[4].GetInt64(), tensor.storage_offset());
                using var values = tensor.to(ScalarType.Float64).flatten();
                Assert.True(
                    python[5].EnumerateArray().Select(value => value.GetDouble()).SequenceEqual(values.data<double>().ToArray()),
                    $"{name}: the values differ");
                Assert.Equal(DeviceType.CPU, tensor.device_type);
            }

            var byName = entries.ToDictionary(entry => entry.Name, entry => entry.Tensor);
            byName["base"].fill_(-1);
            Assert.Equal(-1f, byName["slice"][0, 0].item<float>());
            Assert.Equal(-1f, byName["transposed"][5, 3].item<float>());
        }
        finally
        {
            ReferenceStateDictTests.Dispose(entries);
        }
    }

    private static string PythonDType(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "torch.float32",
        ScalarType.Float64 => "torch.float64",
        ScalarType.Float16 => "torch.float16",
        ScalarType.BFloat16 => "torch.bfloat16",
        ScalarType.Int64 => "torch.int64",
        ScalarType.Int32 => "torch.int32",
        ScalarType.Byte => "torch.uint8",
        ScalarType.Bool => "torch.bool",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    private static string Digest(Tensor tensor)
    {
        using var contiguous = tensor.detach().contiguous();
        return contiguous.numel() == 0
            ? Convert.ToHexStringLower(SHA256.HashData([]))
            : Convert.ToHexStringLower(SHA256.HashData(contiguous.bytes));
    }

    private static void AssertClose(float[] ours, JsonElement theirs, double tolerance)
    {
        double[] values = [.. theirs.EnumerateArray().Select(value => value.GetDouble())];
        Assert.Equal(ours.Length, values.Length);
        double worst = ours.Zip(values).Max(pair => Math.Abs(pair.First - pair.Second));
        Assert.True(worst <= tolerance, $"largest difference {worst}");
    }
}
