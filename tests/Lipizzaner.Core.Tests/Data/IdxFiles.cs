using System.Buffers.Binary;
using System.IO.Compression;

namespace Lipizzaner.Core.Tests.Data;

/// <summary>Builds small IDX files for tests.</summary>
internal static class IdxFiles
{
    public static byte[] Images(int count, int rows, int columns, Func<int, byte>? pixel = null, int magic = 0x00000803)
    {
        var content = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(content, magic);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(12), columns);
        for (int i = 16; i < content.Length; i++)
        {
            content[i] = pixel?.Invoke(i - 16) ?? (byte)((i - 16) * 7 % 256);
        }

        return content;
    }

    public static byte[] Labels(params byte[] labels)
    {
        var content = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(content, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4), labels.Length);
        labels.CopyTo(content, 8);
        return content;
    }

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }
}
