namespace Lipizzaner.Core.Data;

/// <summary>
/// Result of comparing one MNIST file with its published SHA-256.
/// </summary>
/// <param name="FileName">Published name of the uncompressed file, such as train-images-idx3-ubyte.</param>
/// <param name="Path">File that was hashed (possibly the ".gz" variant), or null when neither exists.</param>
/// <param name="ExpectedSha256">Published SHA-256 of the uncompressed file, lowercase hexadecimal.</param>
/// <param name="ActualSha256">SHA-256 of the file's uncompressed content, or null when the file is
/// missing or is not valid gzip data.</param>
public sealed record MnistFileCheck(string FileName, string? Path, string ExpectedSha256, string? ActualSha256)
{
    public bool Exists => Path is not null;

    public bool Matches => string.Equals(ActualSha256, ExpectedSha256, StringComparison.Ordinal);
}
