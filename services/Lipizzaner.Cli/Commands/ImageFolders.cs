using Lipizzaner.Core.Data;
using SkiaSharp;

namespace Lipizzaner.Cli.Commands;

/// <summary>Helpers for the commands that read folders of images.</summary>
internal static class ImageFolders
{
    /// <summary>Returns the shorter side of the first image file (in ordinal order) directly in <paramref name="folder"/>.</summary>
    public static int FirstImageSide(string folder, string optionName)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{optionName} folder '{folder}' does not exist.");
        }

        string first = Directory.EnumerateFiles(folder).Where(ImageFolderDataset.IsImageFile).Order(StringComparer.Ordinal).FirstOrDefault()
            ?? throw new InvalidDataException($"{optionName} folder '{folder}' contains no .jpg, .jpeg or .png file.");
        using var codec = SKCodec.Create(first)
            ?? throw new InvalidDataException($"{first} is not a decodable image; pass --image-size.");
        return Math.Min(codec.Info.Width, codec.Info.Height);
    }
}
