using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Checkpoints;

/// <summary>Writes and reads one tensor as dtype, shape and raw little-endian data (on the CPU).</summary>
public static class TensorIO
{
    public static void Write(BinaryWriter writer, Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        writer.Write((int)cpu.dtype);
        writer.Write(cpu.shape.Length);
        foreach (long dimension in cpu.shape)
        {
            writer.Write(dimension);
        }

        var bytes = cpu.bytes;
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    /// <summary>Reads a tensor onto the CPU; the caller owns it (it belongs to the current dispose scope).</summary>
    public static Tensor Read(BinaryReader reader)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        int rank = reader.ReadInt32();
        if (rank is < 0 or > 8)
        {
            throw new InvalidDataException($"Tensor rank {rank} is out of range 0..8; the data is corrupt.");
        }

        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            shape[i] = reader.ReadInt64();
        }

        int length = reader.ReadInt32();
        byte[] data = reader.ReadBytes(length);
        if (data.Length != length)
        {
            throw new EndOfStreamException($"Tensor data is truncated: expected {length} bytes, read {data.Length}.");
        }

        var tensor = torch.empty(shape, dtype);
        if (tensor.bytes.Length != length)
        {
            throw new InvalidDataException(
                $"Tensor of shape [{string.Join(", ", shape)}] and type {dtype} needs {tensor.bytes.Length} bytes; the data has {length}.");
        }

        tensor.bytes = data;
        return tensor;
    }
}
