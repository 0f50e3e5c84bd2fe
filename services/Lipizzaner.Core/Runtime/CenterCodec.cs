using System.Text;
using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.IO;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Runtime;

/// <summary>Serialises a center (generator and discriminator with their optimizer state) for the exchange.</summary>
public static class CenterCodec
{
    public static CenterSnapshot Encode(int cellIndex, int generation, Individual generator, Individual discriminator)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            IndividualCodec.Write(writer, generator);
            IndividualCodec.Write(writer, discriminator);
        }

        byte[] payload = stream.ToArray();
        return new CenterSnapshot(cellIndex, generation, payload, AtomicFile.Sha256Hex(payload));
    }

    /// <summary>Returns fresh copies of the generator and discriminator in <paramref name="snapshot"/>, tagged with its cell.</summary>
    public static (Individual Generator, Individual Discriminator) Decode(CenterSnapshot snapshot, Device device)
    {
        using var stream = new MemoryStream(snapshot.Payload, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var generator = IndividualCodec.Read(reader, device);
        try
        {
            var discriminator = IndividualCodec.Read(reader, device);
            generator.SourceCell = snapshot.CellIndex;
            discriminator.SourceCell = snapshot.CellIndex;
            return (generator, discriminator);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }
}
