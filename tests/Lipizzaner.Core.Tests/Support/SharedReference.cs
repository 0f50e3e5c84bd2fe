namespace Lipizzaner.Core.Tests.Support;

/// <summary>
/// Locates the original Lipizzaner's reference files (pretrained MNIST classifier and generators,
/// saved latent noise), which live in a shared folder beside the repository and are never committed.
/// </summary>
public static class SharedReference
{
    private const string RelativeFolder = "shared/reference/lipizzaner-pytorch";

    /// <summary>Returns the reference folder; fails the test with the searched paths when it is absent.</summary>
    public static string Directory
    {
        get
        {
            var searched = new List<string>();
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                string candidate = Path.Combine(folder.FullName, RelativeFolder);
                searched.Add(candidate);
                if (System.IO.Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException(
                $"Reference files not found; looked in: {string.Join(", ", searched)}. They belong in a folder named 'shared' beside the repository.");
        }
    }

    public static string File(string name) => Path.Combine(Directory, name);

    /// <summary>Reads the saved latent noise: raw little-endian float32, 10000 × 64, row-major.</summary>
    public static float[] ReadLatents()
    {
        byte[] bytes = System.IO.File.ReadAllBytes(File("latents-seed0-10000x64.f32"));
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
