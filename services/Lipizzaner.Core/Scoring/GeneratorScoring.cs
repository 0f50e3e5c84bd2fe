using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// Scores fixed generators, ours or imported, the way the original Lipizzaner's reference figures
/// were measured: sample i is a generator's output on latent row i, and a weighted mixture gives each
/// generator one consecutive block of rows.
/// </summary>
public static class GeneratorScoring
{
    /// <summary>
    /// Splits <paramref name="count"/> samples into consecutive blocks, one per generator, sized in
    /// proportion to <paramref name="weights"/>: each block gets ⌊count · wᵢ⌋ samples, and the samples
    /// left over go one each to the largest fractional parts (the lower index wins a tie).
    /// </summary>
    public static int[] BlockSizes(IReadOnlyList<double> weights, int count)
    {
        if (weights.Count == 0 || weights.Any(weight => !(weight >= 0) || double.IsInfinity(weight)) || !(weights.Sum() > 0))
        {
            throw new ArgumentException(
                $"Mixture weights [{string.Join(", ", weights)}] are invalid; give one finite, non-negative weight per generator, with a positive sum.",
                nameof(weights));
        }

        double total = weights.Sum();
        var exact = weights.Select(weight => count * weight / total).ToArray();
        var sizes = exact.Select(value => (int)Math.Floor(value)).ToArray();
        int left = count - sizes.Sum();
        foreach (int index in Enumerable.Range(0, weights.Count).OrderByDescending(i => exact[i] - sizes[i]).ThenBy(i => i).Take(left))
        {
            sizes[index]++;
        }

        return sizes;
    }

    /// <summary>Returns the images (count, pixels): generator k's outputs on its block of <paramref name="latents"/>, in eval mode.</summary>
    public static Tensor Generate(IReadOnlyList<Sequential> generators, IReadOnlyList<double> weights, Tensor latents)
    {
        if (generators.Count != weights.Count)
        {
            throw new ArgumentException($"{weights.Count} weights for {generators.Count} generators; give one weight per generator.", nameof(weights));
        }

        int count = (int)latents.shape[0];
        int[] sizes = BlockSizes(weights, count);
        var assignment = new int[count];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            Array.Fill(assignment, i, start, sizes[i]);
            start += sizes[i];
        }

        return MixtureSampler.Generate(generators, assignment, latents);
    }

    /// <summary>Reads raw little-endian float32 latent vectors (rows × <paramref name="latentSize"/>, row-major) and returns the first <paramref name="rows"/>.</summary>
    public static Tensor ReadLatents(string path, int rows, int latentSize)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"Latent file {path} not found; pass raw float32 values, {latentSize} per sample, row-major.", path);
        }

        long rowBytes = (long)latentSize * sizeof(float);
        if (info.Length % rowBytes != 0)
        {
            throw new InvalidDataException(
                $"Latent file {path} has {info.Length} bytes, which is not a whole number of {latentSize}-value float32 rows ({rowBytes} bytes each); check --network, whose latent size is {latentSize}.");
        }

        long available = info.Length / rowBytes;
        if (available < rows)
        {
            throw new InvalidDataException(
                $"Latent file {path} has {available} rows of {latentSize} values; {rows} samples were requested. Pass --samples {available} or a larger file.");
        }

        byte[] bytes = new byte[rows * rowBytes];
        using (var stream = File.OpenRead(path))
        {
            stream.ReadExactly(bytes);
        }

        var latents = torch.empty([rows, latentSize], ScalarType.Float32);
        latents.bytes = bytes;
        return latents;
    }
}
