using Lipizzaner.Core.IO;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Scoring;

/// <summary>
/// TorchSharp runs libtorch's own CPU generator and normal sampler, so <c>manual_seed(0)</c> followed
/// by <c>randn(10000, 64)</c> gives the stream that PyTorch gives for the same calls.
/// </summary>
public sealed class LatentCompatibilityTests
{
    public LatentCompatibilityTests() => TorchSetup.Configure(1);

    [Fact]
    public void SavedLatents_HaveThePublishedChecksumAndValues()
    {
        Assert.Equal(
            "a55aa3b7fa71fb5e17b7fe7487efba6a90f76f471c8f39f8e74ddcc66775871b",
            AtomicFile.Sha256HexOfFile(SharedReference.File("latents-seed0-10000x64.f32")));
        float[] latents = SharedReference.ReadLatents();

        Assert.Equal(10000 * 64, latents.Length);
        Assert.Equal([-1.12583983f, -1.1523602f, -0.250578582f, -0.433878809f, 0.848710358f], latents[..5]);
        Assert.Equal([0.218648538f, 0.642579556f, -0.234854579f, -1.68911171f, 0.0642162934f], latents[(9999 * 64)..(9999 * 64 + 5)]);
    }

    [Fact]
    public void ManualSeedAndRandn_ReproducePyTorchStream()
    {
        float[] expected = SharedReference.ReadLatents();

        torch.manual_seed(0);
        using var latents = torch.randn(10000, 64);
        float[] actual = latents.data<float>().ToArray();

        Assert.Equal(expected.Length, actual.Length);
        int mismatch = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(
            mismatch == expected.Length,
            mismatch < expected.Length ? $"first differing value at index {mismatch}: PyTorch {expected[mismatch]}, TorchSharp {actual[mismatch]}" : "");
    }

    [Fact]
    public void ExplicitGenerator_ReproducesPyTorchStream()
    {
        float[] expected = SharedReference.ReadLatents();
        using var generator = new torch.Generator(0);

        using var latents = torch.randn([10000, 64], generator: generator);

        Assert.True(expected.AsSpan().SequenceEqual(latents.data<float>().ToArray()));
    }
}
