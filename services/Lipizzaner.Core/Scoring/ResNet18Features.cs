using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// The 512 pooled ImageNet features of ResNet18 (see <see cref="ResNet18Model"/>) for grayscale images.
/// Each image goes through the preprocessing that ML.NET's <c>DnnImageFeaturizerEstimator</c> expects
/// for this model: [-1, 1] pixels become 0–255 values, the gray channel is copied to R, G and B, the
/// image is resized to 224 × 224 (bilinear, as <see cref="ResizeTo224"/> does), and the package's
/// <c>ResNetPreprocess.onnx</c> reorders the channels to BGR and subtracts the ImageNet mean image. An
/// instance may be shared by threads: ONNX Runtime sessions allow concurrent <c>Run</c> calls.
/// </summary>
public sealed class ResNet18Features : IDisposable
{
    public const int FeatureCount = 512;
    public const int InputSide = 224;

    private const string PreprocessInput = "OriginalInput";
    private const string PreprocessOutput = "PreprocessedInput";
    private const string ModelInput = "Input247";
    private const string ModelOutput = "Pooling395_Output_0";
    private const int ResizeBatch = 32;

    private static readonly long[] InputShape = [1, 3, InputSide, InputSide];

    private readonly InferenceSession _preprocess;
    private readonly InferenceSession _model;

    private ResNet18Features(InferenceSession preprocess, InferenceSession model)
    {
        _preprocess = preprocess;
        _model = model;
    }

    /// <summary>Loads both models with <paramref name="threads"/> intra-op threads per call.</summary>
    public static ResNet18Features Load(int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var (modelPath, preprocessPath) = ResNet18Model.Locate();
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        var preprocess = new InferenceSession(preprocessPath, options);
        try
        {
            return new ResNet18Features(preprocess, new InferenceSession(modelPath, options));
        }
        catch
        {
            preprocess.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns the features (N, 512) in float32 on the CPU of square grayscale images (N, side·side) in
    /// [-1, 1], on any device.
    /// </summary>
    public Tensor Extract(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int count = (int)images.shape[0];
        var features = new float[(long)count * FeatureCount];
        var channels = new float[3 * InputSide * InputSide];
        int plane = InputSide * InputSide;
        for (int start = 0; start < count; start += ResizeBatch)
        {
            int length = Math.Min(ResizeBatch, count - start);
            float[] resized;
            using (var scope = torch.NewDisposeScope())
            {
                resized = ResizeTo224(images.narrow(0, start, length)).data<float>().ToArray();
            }

            for (int i = 0; i < length; i++)
            {
                var source = resized.AsSpan(i * plane, plane);
                source.CopyTo(channels.AsSpan(0, plane));
                source.CopyTo(channels.AsSpan(plane, plane));
                source.CopyTo(channels.AsSpan(2 * plane, plane));
                ExtractOne(channels, features.AsSpan((start + i) * FeatureCount, FeatureCount));
            }
        }

        return torch.tensor(features, [count, FeatureCount], ScalarType.Float32);
    }

    /// <summary>
    /// Returns images (N, side·side) in [-1, 1] as 0–255 values resized to 224 × 224 (N, 224·224), by
    /// bilinear interpolation without corner alignment (PyTorch's default), clamped to 0–255.
    /// </summary>
    public static Tensor ResizeTo224(Tensor images)
    {
        long side = (long)Math.Round(Math.Sqrt(images.shape[1]));
        if (side * side != images.shape[1])
        {
            throw new ArgumentException($"Images of {images.shape[1]} pixels are not square.", nameof(images));
        }

        using var scope = torch.NewDisposeScope();
        var pixels = ((images.detach().cpu().to(ScalarType.Float32) + 1) * 127.5f).reshape(-1, 1, side, side);
        var resized = side == InputSide
            ? pixels
            : nn.functional.interpolate(pixels, [InputSide, InputSide], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.clamp(0, 255).reshape(-1, (long)InputSide * InputSide).contiguous().MoveToOuterDisposeScope();
    }

    private void ExtractOne(float[] channels, Span<float> destination)
    {
        using var runOptions = new RunOptions();
        using var input = OrtValue.CreateTensorValueFromMemory(channels, InputShape);
        using var prepared = _preprocess.Run(runOptions, [PreprocessInput], [input], [PreprocessOutput]);
        using var output = _model.Run(runOptions, [ModelInput], [prepared[0]], [ModelOutput]);
        output[0].GetTensorDataAsSpan<float>().CopyTo(destination);
    }

    public void Dispose()
    {
        _preprocess.Dispose();
        _model.Dispose();
    }
}
