using static TorchSharp.torch;

namespace Lipizzaner.Core.Interop;

/// <summary>
/// A typed PyTorch storage class such as <c>torch.FloatStorage</c>: the name that a pickle refers to
/// and the element type of the bytes stored for it.
/// </summary>
internal sealed record TorchStorageType(string Name, ScalarType DType, int ElementSize)
{
    /// <summary>The storage classes that a state dict may name, all in module <c>torch</c>.</summary>
    public static IReadOnlyList<TorchStorageType> All { get; } =
    [
        new("FloatStorage", ScalarType.Float32, 4),
        new("DoubleStorage", ScalarType.Float64, 8),
        new("HalfStorage", ScalarType.Float16, 2),
        new("BFloat16Storage", ScalarType.BFloat16, 2),
        new("LongStorage", ScalarType.Int64, 8),
        new("IntStorage", ScalarType.Int32, 4),
        new("ShortStorage", ScalarType.Int16, 2),
        new("CharStorage", ScalarType.Int8, 1),
        new("ByteStorage", ScalarType.Byte, 1),
        new("BoolStorage", ScalarType.Bool, 1),
        new("ComplexFloatStorage", ScalarType.ComplexFloat32, 8),
        new("ComplexDoubleStorage", ScalarType.ComplexFloat64, 16),
    ];

    public static TorchStorageType? FromName(string name) => All.FirstOrDefault(type => type.Name == name);

    /// <exception cref="ArgumentException">PyTorch has no typed storage for <paramref name="dtype"/> (quantized types).</exception>
    public static TorchStorageType FromDType(ScalarType dtype) =>
        All.FirstOrDefault(type => type.DType == dtype)
        ?? throw new ArgumentException($"Tensors of type {dtype} cannot be written to a PyTorch state dict.", nameof(dtype));
}
