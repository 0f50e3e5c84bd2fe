using System.Text;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Checkpoints;

/// <summary>
/// Versioned binary form of an <see cref="Individual"/>: every state-dict entry (parameters and
/// buffers, by name), the Adam step count and moments (by parameter position), the learning
/// rate, fitness and origin. Tensors are stored as little-endian raw data with dtype and shape.
/// Used for checkpoints and for centers exchanged between cells.
/// </summary>
public static class IndividualCodec
{
    private const uint Magic = 0x495A504C; // "LPZI" read as a little-endian uint32
    private const int FormatVersion = 1;

    public static void Write(BinaryWriter writer, Individual individual)
    {
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write((byte)individual.Role);
        writer.Write((byte)individual.Kind);
        writer.Write(individual.LearningRate);
        writer.Write(individual.Fitness);
        writer.Write(individual.SourceCell);
        writer.Write(individual.Iteration);

        var entries = individual.Network.state_dict();
        writer.Write(entries.Count);
        foreach (var (name, tensor) in entries)
        {
            writer.Write(name);
            TensorIO.Write(writer, tensor);
        }

        writer.Write(individual.Optimizer.StepCount);
        writer.Write(individual.Optimizer.FirstMoments.Count);
        for (int i = 0; i < individual.Optimizer.FirstMoments.Count; i++)
        {
            TensorIO.Write(writer, individual.Optimizer.FirstMoments[i]);
            TensorIO.Write(writer, individual.Optimizer.SecondMoments[i]);
        }
    }

    public static Individual Read(BinaryReader reader, Device device)
    {
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a serialised individual: the magic number does not match.");
        }

        int version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Individual format version {version} is not supported; this build reads version {FormatVersion}.");
        }

        var role = (NetworkRole)reader.ReadByte();
        var kind = (NetworkKind)reader.ReadByte();
        if (!Enum.IsDefined(role) || !Enum.IsDefined(kind))
        {
            throw new InvalidDataException($"Individual has an unknown role ({role}) or network kind ({kind}).");
        }

        double learningRate = reader.ReadDouble();
        var individual = Individual.Create(role, kind, learningRate, device, sourceCell: 0);
        try
        {
            individual.Fitness = reader.ReadDouble();
            individual.SourceCell = reader.ReadInt32();
            individual.Iteration = reader.ReadInt32();
            ReadStateDict(reader, individual);
            ReadOptimizer(reader, individual, device);
            return individual;
        }
        catch
        {
            individual.Dispose();
            throw;
        }
    }

    public static byte[] ToBytes(Individual individual)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            Write(writer, individual);
        }

        return stream.ToArray();
    }

    public static Individual FromBytes(ReadOnlySpan<byte> bytes, Device device)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        return Read(reader, device);
    }

    private static void ReadStateDict(BinaryReader reader, Individual individual)
    {
        var target = individual.Network.state_dict();
        int count = reader.ReadInt32();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var noGrad = torch.no_grad();
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            using var scope = torch.NewDisposeScope();
            var tensor = TensorIO.Read(reader);
            if (!target.TryGetValue(name, out var destination))
            {
                throw new InvalidDataException($"Serialised {individual.Kind} {individual.Role} has unexpected entry '{name}'.");
            }

            if (!destination.shape.SequenceEqual(tensor.shape))
            {
                throw new InvalidDataException(
                    $"Entry '{name}' has shape [{string.Join(", ", tensor.shape)}]; the network expects [{string.Join(", ", destination.shape)}].");
            }

            destination.copy_(tensor);
            seen.Add(name);
        }

        var missing = target.Keys.Where(name => !seen.Contains(name)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"Serialised {individual.Kind} {individual.Role} lacks entries: {string.Join(", ", missing)}.");
        }
    }

    private static void ReadOptimizer(BinaryReader reader, Individual individual, Device device)
    {
        long stepCount = reader.ReadInt64();
        int count = reader.ReadInt32();
        using var scope = torch.NewDisposeScope();
        var first = new List<Tensor>(count);
        var second = new List<Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            first.Add(TensorIO.Read(reader).to(device));
            second.Add(TensorIO.Read(reader).to(device));
        }

        individual.Optimizer.LoadState(stepCount, first, second);
    }
}
