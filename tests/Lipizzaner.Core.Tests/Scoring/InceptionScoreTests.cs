using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Tests.Data;
using Lipizzaner.Core.Tests.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Scoring;

public sealed class InceptionScoreTests : IDisposable
{
    private const int Side = 16;
    private const int Count = 40;
    private const int Classes = 5;

    // Exports a small fixed classifier, then prints its probabilities for the images of Pattern below
    // and their Inception Score over 10 splits, computed with numpy.
    private const string ExportScript = """
        import sys, json, numpy as np, torch
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 30 * 30, 5))
        i = np.arange(40).reshape(40, 1, 1)
        j = np.arange(32 * 32).reshape(1, 32, 32)
        x = ((i * 7 + j * 3) % 17 / 16.0).astype(np.float32)
        x = torch.from_numpy(np.repeat(x[:, None], 3, axis=1))
        with torch.no_grad():
            p = model(x).softmax(1).double().numpy()
        torch.onnx.export(model, x[:2], sys.argv[1], input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}}, opset_version=13)
        scores = []
        for part in np.array_split(p, 10):
            marginal = part.mean(0, keepdims=True)
            scores.append(np.exp((part * (np.log(part) - np.log(marginal))).sum(1).mean()))
        print(json.dumps({"p": p.tolist(), "mean": float(np.mean(scores)), "std": float(np.std(scores))}))
        """;

    private readonly TemporaryFolder _folder = new();

    public InceptionScoreTests() => TorchSetup.Configure(1);

    [Fact]
    public void Compute_IdenticalPredictions_IsOne()
    {
        using var probabilities = torch.full([50, Classes], 1.0 / Classes, ScalarType.Float64);

        var (mean, deviation) = InceptionScore.Compute(probabilities);

        Assert.Equal(1.0, mean, 1e-12);
        Assert.Equal(0.0, deviation, 1e-12);
    }

    [Fact]
    public void Compute_ConfidentBalancedPredictions_IsClassCount()
    {
        using var labels = torch.arange(50, ScalarType.Int64) % Classes;
        using var probabilities = nn.functional.one_hot(labels, Classes).to(ScalarType.Float64);

        var (mean, _) = InceptionScore.Compute(probabilities, splits: 10);

        Assert.Equal(Classes, mean, 1e-9);
    }

    [Fact]
    public void Compute_FewerSamplesThanSplits_IsAnError()
    {
        using var probabilities = torch.full([5, Classes], 1.0 / Classes, ScalarType.Float64);

        Assert.Throws<ArgumentException>(() => InceptionScore.Compute(probabilities));
    }

    [Fact]
    public void OnnxClassifier_MatchesPyTorchAndNumpy()
    {
        string model = Path.Combine(_folder.Path, "classifier.onnx");
        string line = SystemTorch.Run(ExportScript, model);
        using var expected = System.Text.Json.JsonDocument.Parse(line);
        using var classifier = OnnxClassifier.Load(model);
        using var images = Pattern(32);

        using var probabilities = classifier.Probabilities(images);
        using var scorer = new InceptionScorer(classifier);
        var score = scorer.Score(images);

        var rows = expected.RootElement.GetProperty("p").EnumerateArray().ToArray();
        Assert.Equal(new long[] { Count, Classes }, probabilities.shape);
        for (int i = 0; i < Count; i++)
        {
            var values = rows[i].EnumerateArray().Select(value => value.GetDouble()).ToArray();
            for (int k = 0; k < Classes; k++)
            {
                Assert.Equal(values[k], probabilities[i, k].item<double>(), 1e-5);
            }
        }

        Assert.Equal(ScoreKind.InceptionScore, scorer.Kind);
        Assert.True(ScoreKinds.HigherIsBetter(scorer.Kind));
        Assert.Equal(expected.RootElement.GetProperty("mean").GetDouble(), score.Value, 1e-5);
        Assert.Equal(expected.RootElement.GetProperty("std").GetDouble(), score.Spread, 1e-5);
    }

    [Fact]
    public void OnnxClassifier_ResizesToTheModelsFixedInput()
    {
        string model = Path.Combine(_folder.Path, "fixed.onnx");
        SystemTorch.Run(
            """
            import sys, torch
            model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16 * 16, 3))
            torch.onnx.export(model, torch.zeros(1, 1, 16, 16), sys.argv[1], input_names=["x"], output_names=["y"], opset_version=13)
            print("ok")
            """,
            model);
        using var classifier = OnnxClassifier.Load(model);
        using var images = Pattern(Side * 2);

        using var probabilities = classifier.Probabilities(images);

        Assert.Equal(new long[] { Count, 3 }, probabilities.shape);
        Assert.True((probabilities.sum(1) - 1).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void OnnxClassifier_NotAModel_IsInvalidData()
    {
        string path = _folder.Write("text.onnx", "not a model"u8.ToArray());

        var error = Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(path));

        Assert.Contains("text.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnnxClassifier_MissingFile_IsNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => OnnxClassifier.Load(Path.Combine(_folder.Path, "missing.onnx")));
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>The images of the export script, pixel (i, j) = ((7i + 3j) mod 17) / 16, scaled to [-1, 1].</summary>
    private static Tensor Pattern(int side)
    {
        var values = new float[Count * side * side];
        for (int i = 0; i < Count; i++)
        {
            for (int j = 0; j < side * side; j++)
            {
                values[(i * side * side) + j] = (float)(((((i * 7) + (j * 3)) % 17) / 16.0 * 2) - 1);
            }
        }

        return torch.tensor(values, [Count, side * side]);
    }
}
