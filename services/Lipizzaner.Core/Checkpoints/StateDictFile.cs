using System.Text;
using Lipizzaner.Core.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Checkpoints;

/// <summary>
/// A module's state dict as a file: a magic number, the entry count, then name and tensor per
/// entry (<see cref="TensorIO"/>), followed by the SHA-256 of everything before it. Loading
/// verifies the checksum and matches names and shapes strictly.
/// </summary>
public static class StateDictFile
{
    private const uint Magic = 0x44535A4C; // "LZSD" read as a little-endian uint32
    private const int HashLength = 32;

    public static byte[] ToBytes(nn.Module module)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            var entries = module.state_dict();
            writer.Write(entries.Count);
            foreach (var (name, tensor) in entries)
            {
                writer.Write(name);
                TensorIO.Write(writer, tensor);
            }
        }

        byte[] body = stream.ToArray();
        return [.. body, .. System.Security.Cryptography.SHA256.HashData(body)];
    }

    public static void Save(nn.Module module, string path) => AtomicFile.WriteAllBytes(path, ToBytes(module));

    public static void Load(nn.Module module, string path)
    {
        byte[] content = File.ReadAllBytes(path);
        try
        {
            LoadBytes(module, content);
        }
        catch (Exception error) when (error is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: {error.Message}", error);
        }
    }

    public static void LoadBytes(nn.Module module, byte[] content)
    {
        if (content.Length < HashLength + 8)
        {
            throw new InvalidDataException("The state-dict file is too short to be valid.");
        }

        var body = content.AsSpan(0, content.Length - HashLength);
        var expected = content.AsSpan(content.Length - HashLength);
        if (!System.Security.Cryptography.SHA256.HashData(body).AsSpan().SequenceEqual(expected))
        {
            throw new InvalidDataException("The state-dict checksum does not match: the file is corrupt or truncated. Delete it and create it again.");
        }

        using var stream = new MemoryStream(content, 0, body.Length, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a state-dict file: the magic number does not match.");
        }

        var target = module.state_dict();
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
                throw new InvalidDataException($"Unexpected entry '{name}' for this network.");
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
            throw new InvalidDataException($"Missing entries: {string.Join(", ", missing)}.");
        }
    }
}
