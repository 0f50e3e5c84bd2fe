using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Checkpoints;

public sealed class CodecTests
{
    public CodecTests() => TorchSetup.Configure(1);

    [Theory]
    [InlineData(NetworkKind.FourLayerPerceptron)]
    [InlineData(NetworkKind.Cnn28)]
    public void Individual_RoundTrip_KeepsWeightsBuffersAndOptimizer(NetworkKind kind)
    {
        using var original = Individual.Create(NetworkRole.Generator, kind, 0.00031, torch.CPU, 3);
        original.Fitness = 0.25;
        original.Iteration = 7;
        using (var scope = torch.NewDisposeScope())
        {
            var output = original.Network.call(torch.randn(4, original.Spec.LatentSize));
            original.Optimizer.ZeroGrad();
            output.square().sum().backward();
            original.Optimizer.Step();
        }

        using var copy = IndividualCodec.FromBytes(IndividualCodec.ToBytes(original), torch.CPU);

        Assert.Equal(original.LearningRate, copy.LearningRate);
        Assert.Equal(0.25, copy.Fitness);
        Assert.Equal(7, copy.Iteration);
        Assert.Equal(3, copy.SourceCell);
        Assert.Equal(1, copy.Optimizer.StepCount);
        var expected = original.Network.state_dict();
        foreach (var (name, tensor) in copy.Network.state_dict())
        {
            Assert.True(TensorAssert.Identical(tensor, expected[name]), $"entry {name} differs after the round trip");
        }

        for (int i = 0; i < original.Optimizer.FirstMoments.Count; i++)
        {
            Assert.True(TensorAssert.Identical(copy.Optimizer.FirstMoments[i], original.Optimizer.FirstMoments[i]));
            Assert.True(TensorAssert.Identical(copy.Optimizer.SecondMoments[i], original.Optimizer.SecondMoments[i]));
        }
    }

    [Fact]
    public void Individual_TruncatedBytes_Throws()
    {
        using var original = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        byte[] bytes = IndividualCodec.ToBytes(original);

        Assert.ThrowsAny<Exception>(() => IndividualCodec.FromBytes(bytes.AsSpan(0, bytes.Length / 2), torch.CPU).Dispose());
    }

    [Fact]
    public async Task FolderStore_CorruptCheckpoint_FailsChecksum()
    {
        using var folder = new TemporaryDirectory();
        var store = new FolderCheckpointStore(folder.Path, new GridTopology(2, 1));
        await store.WriteAsync(1, 4, [1, 2, 3, 4, 5], CancellationToken.None);
        await store.WriteAsync(1, 8, [6, 7, 8], CancellationToken.None);

        Assert.Equal([4, 8], await store.ListAsync(1, CancellationToken.None));
        Assert.Equal([1, 2, 3, 4, 5], await store.ReadAsync(1, 4, CancellationToken.None));

        string path = Path.Combine(folder.Path, "cell-1-0", "gen-000008.ckpt");
        byte[] content = await File.ReadAllBytesAsync(path);
        content[0] ^= 0xFF;
        await File.WriteAllBytesAsync(path, content);

        await Assert.ThrowsAsync<InvalidDataException>(() => store.ReadAsync(1, 8, CancellationToken.None));
        Assert.Empty(await store.ListAsync(0, CancellationToken.None));
    }
}
