using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// A user-supplied ONNX image classifier with one input [N, C, H, W] (C is 1 or 3) and one output of
/// class logits [N, K]. Gray images in [-1, 1] are given to it as [0, 1] values, the gray channel copied
/// to every input channel and resized bilinearly to H × W when the model fixes them. A model that
/// expects another normalisation must contain it in its graph. A fixed batch dimension of 1 is run one
/// image at a time; a symbolic one in batches.
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    private const int BatchSize = 64;

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly int _channels;
    private readonly int _height;
    private readonly int _width;
    private readonly bool _fixedBatchOfOne;

    private OnnxClassifier(InferenceSession session, string path)
    {
        _session = session;
        Path = path;
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count < 1)
        {
            throw Invalid(path, $"it has {session.InputMetadata.Count} inputs and {session.OutputMetadata.Count} outputs");
        }

        var (inputName, input) = session.InputMetadata.First();
        var (outputName, output) = session.OutputMetadata.First();
        int[] dimensions = input.Dimensions;
        if (input.ElementType != typeof(float) || dimensions.Length != 4 || dimensions[1] is not (1 or 3))
        {
            throw Invalid(path, $"its input '{inputName}' is {input.ElementType.Name} [{string.Join(", ", dimensions)}]");
        }

        if (output.ElementType != typeof(float) || output.Dimensions.Length != 2)
        {
            throw Invalid(path, $"its output '{outputName}' is {output.ElementType.Name} [{string.Join(", ", output.Dimensions)}]");
        }

        _inputName = inputName;
        _outputName = outputName;
        _channels = dimensions[1];
        _height = dimensions[2];
        _width = dimensions[3];
        _fixedBatchOfOne = dimensions[0] == 1;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>Loads <paramref name="path"/> with <paramref name="threads"/> intra-op threads per call.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model of the expected shape.</exception>
    public static OnnxClassifier Load(string path, int threads = 1)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX classifier {path} not found.", path);
        }

        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        InferenceSession session;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException error)
        {
            throw new InvalidDataException($"{path} is not a valid ONNX model: {error.Message}", error);
        }

        try
        {
            return new OnnxClassifier(session, path);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Returns the class probabilities (N, K) in float64, the softmax of the model's logits, of images (N, side·side) in [-1, 1].</summary>
    public Tensor Probabilities(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        long side = (long)Math.Round(Math.Sqrt(images.shape[1]));
        int height = _height > 0 ? _height : (int)side;
        int width = _width > 0 ? _width : (int)side;
        int count = (int)images.shape[0];
        int step = _fixedBatchOfOne ? 1 : BatchSize;
        var parts = new List<Tensor>();
        using var scope = torch.NewDisposeScope();
        var pixels = ((images.detach().cpu().to(ScalarType.Float32) + 1) / 2).reshape(-1, 1, side, side);
        if (height != side || width != side)
        {
            pixels = nn.functional.interpolate(pixels, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        }

        pixels = pixels.expand(-1, _channels, height, width).contiguous();
        for (int start = 0; start < count; start += step)
        {
            int length = Math.Min(step, count - start);
            float[] batch = pixels.narrow(0, start, length).data<float>().ToArray();
            using var runOptions = new RunOptions();
            using var input = OrtValue.CreateTensorValueFromMemory(batch, [length, _channels, height, width]);
            using var output = _session.Run(runOptions, [_inputName], [input], [_outputName]);
            var shape = output[0].GetTensorTypeAndShape().Shape;
            float[] logits = output[0].GetTensorDataAsSpan<float>().ToArray();
            parts.Add(torch.tensor(logits, [shape[0], shape[1]], ScalarType.Float32));
        }

        return torch.cat(parts, 0).to(ScalarType.Float64).softmax(1).MoveToOuterDisposeScope();
    }

    public void Dispose() => _session.Dispose();

    private static InvalidDataException Invalid(string path, string detail) => new(
        $"{path} is not a usable image classifier because {detail}; expected one float input [N, 1 or 3, H, W] "
        + "and a float output of class logits [N, classes].");
}
