using System.Security.Cryptography;

namespace Lipizzaner.Core.IO;

/// <summary>
/// Writes files so that a crash leaves either the old file or the complete new one. The content
/// goes to a temporary file in the same folder and is flushed to disk. The file is then renamed over
/// the target, which is an atomic replace on POSIX file systems.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var (temporary, fullPath) = CreateTemporary(path);
        try
        {
            using (var stream = OpenTemporary(temporary))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public static void WriteAllText(string path, string content)
    {
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content));
    }

    /// <summary>Writes through <paramref name="writeContent"/>, then renames into place.</summary>
    public static void Write(string path, Action<Stream> writeContent)
    {
        ArgumentNullException.ThrowIfNull(writeContent);

        var (temporary, fullPath) = CreateTemporary(path);
        try
        {
            using (var stream = OpenTemporary(temporary))
            {
                writeContent(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static (string Temporary, string FullPath) CreateTemporary(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        return (Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp"), fullPath);
    }

    private static FileStream OpenTemporary(string temporary) =>
        new(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);

    /// <summary>Returns the lowercase hexadecimal SHA-256 of <paramref name="content"/>.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> content) =>
        Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Returns the lowercase hexadecimal SHA-256 of a file's content.</summary>
    public static string Sha256HexOfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
