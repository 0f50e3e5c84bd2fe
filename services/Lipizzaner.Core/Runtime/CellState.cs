using System.Text;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// Everything a cell carries from one generation to the next, and so everything its checkpoint
/// holds: the local populations (index 0 is the center), the mixture weights, the last score,
/// both random streams and the number of completed generations. Neighbours are not stored; a
/// resumed cell reads them from the exchange again.
/// </summary>
public sealed class CellState : IDisposable
{
    private const uint Magic = 0x4B5A504C; // "LPZK" read as a little-endian uint32
    private const int FormatVersion = 1;

    public required int CellIndex { get; init; }

    /// <summary>Completed generations.</summary>
    public int Generation { get; set; }

    public required List<Individual> Generators { get; init; }

    public required List<Individual> Discriminators { get; init; }

    /// <summary>Mixture weights, one per member of the neighbourhood including the cell, ordered by cell index.</summary>
    public required double[] MixtureWeights { get; set; }

    /// <summary>Score of the mixture at the last generation (FID, lower is better); NaN when scoring is off.</summary>
    public double Score { get; set; } = double.NaN;

    /// <summary>The generator loss of a Mustangs cell drawn at creation (BCE otherwise).</summary>
    public LossKind CellGeneratorLoss { get; set; } = LossKind.Bce;

    public required CellRandom Random { get; set; }

    /// <summary>Torch's random stream for this cell: latent noise, shuffling and fitness batches (on the CPU).</summary>
    public required torch.Generator TorchRandom { get; set; }

    public Individual CenterGenerator => Generators[0];

    public Individual CenterDiscriminator => Discriminators[0];

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(CellIndex);
            writer.Write(Generation);
            writer.Write(Score);
            writer.Write((byte)CellGeneratorLoss);
            writer.Write(MixtureWeights.Length);
            foreach (double weight in MixtureWeights)
            {
                writer.Write(weight);
            }

            WritePopulation(writer, Generators);
            WritePopulation(writer, Discriminators);
            byte[] randomState = Random.SaveState();
            writer.Write(randomState.Length);
            writer.Write(randomState);
            using var torchState = TorchRandom.get_state();
            byte[] torchBytes = torchState.bytes.ToArray();
            writer.Write(torchBytes.Length);
            writer.Write(torchBytes);
        }

        return stream.ToArray();
    }

    public static CellState FromBytes(byte[] content, Device device)
    {
        using var stream = new MemoryStream(content, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a cell checkpoint: the magic number does not match.");
        }

        int version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Cell checkpoint format version {version} is not supported; this build reads version {FormatVersion}.");
        }

        int cellIndex = reader.ReadInt32();
        int generation = reader.ReadInt32();
        double score = reader.ReadDouble();
        var cellLoss = (LossKind)reader.ReadByte();
        var weights = new double[reader.ReadInt32()];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = reader.ReadDouble();
        }

        var generators = ReadPopulation(reader, device);
        var discriminators = ReadPopulation(reader, device);
        var random = CellRandom.RestoreState(reader.ReadBytes(reader.ReadInt32()));
        byte[] torchBytes = reader.ReadBytes(reader.ReadInt32());
        var torchRandom = new torch.Generator(0);
        using (var torchState = torch.empty(torchBytes.Length, ScalarType.Byte))
        {
            torchState.bytes = torchBytes;
            torchRandom.set_state(torchState);
        }

        return new CellState
        {
            CellIndex = cellIndex,
            Generation = generation,
            Score = score,
            CellGeneratorLoss = cellLoss,
            MixtureWeights = weights,
            Generators = generators,
            Discriminators = discriminators,
            Random = random,
            TorchRandom = torchRandom,
        };
    }

    public void Dispose()
    {
        foreach (var individual in Generators.Concat(Discriminators))
        {
            individual.Dispose();
        }

        TorchRandom.Dispose();
    }

    private static void WritePopulation(BinaryWriter writer, List<Individual> population)
    {
        writer.Write(population.Count);
        foreach (var individual in population)
        {
            IndividualCodec.Write(writer, individual);
        }
    }

    private static List<Individual> ReadPopulation(BinaryReader reader, Device device)
    {
        int count = reader.ReadInt32();
        var population = new List<Individual>(count);
        for (int i = 0; i < count; i++)
        {
            population.Add(IndividualCodec.Read(reader, device));
        }

        return population;
    }
}
