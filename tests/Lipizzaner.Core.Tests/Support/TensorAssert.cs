using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Support;

public static class TensorAssert
{
    /// <summary>Returns whether two tensors have the same shape and bit-equal elements.</summary>
    public static bool Identical(Tensor first, Tensor second) =>
        first.shape.SequenceEqual(second.shape) && first.eq(second).all().item<bool>();
}
