using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Training;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Evolution;

public sealed class AdamOptimizerTests
{
    public AdamOptimizerTests() => TorchSetup.Configure(1);

    [Fact]
    public void Step_MatchesTorchAdam()
    {
        torch.manual_seed(3);
        using var ours = nn.Linear(5, 3);
        using var reference = nn.Linear(5, 3);
        reference.load_state_dict(ours.state_dict());
        using var adam = new AdamOptimizer(ours.parameters(), 0.01);
        using var torchAdam = torch.optim.Adam(reference.parameters(), 0.01, AdamOptimizer.Beta1, AdamOptimizer.Beta2, AdamOptimizer.Epsilon);

        for (int step = 0; step < 20; step++)
        {
            using var scope = torch.NewDisposeScope();
            var input = torch.randn(8, 5);
            adam.ZeroGrad();
            ours.call(input).square().sum().backward();
            adam.Step();
            torchAdam.zero_grad();
            reference.call(input).square().sum().backward();
            torchAdam.step();
        }

        Assert.True(ours.weight!.allclose(reference.weight!, rtol: 1e-5, atol: 1e-7));
        Assert.True(ours.bias!.allclose(reference.bias!, rtol: 1e-5, atol: 1e-7));
    }

    [Fact]
    public void Clone_CopiesOptimizerStateDeeply()
    {
        using var original = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.001, torch.CPU, 2);
        TrainOnce(original);
        double momentBefore = original.Optimizer.FirstMoments[0].abs().sum().item<float>();

        using var copy = original.Clone();
        Assert.Equal(original.Optimizer.StepCount, copy.Optimizer.StepCount);
        Assert.Equal(original.LearningRate, copy.LearningRate);
        Assert.True(TensorAssert.Identical(copy.Optimizer.FirstMoments[0], original.Optimizer.FirstMoments[0]));
        Assert.True(TensorAssert.Identical(copy.Optimizer.SecondMoments[^1], original.Optimizer.SecondMoments[^1]));
        Assert.NotEqual(original.Optimizer.FirstMoments[0].Handle, copy.Optimizer.FirstMoments[0].Handle);

        TrainOnce(copy);
        copy.LearningRate = 0.5;

        Assert.Equal(1, original.Optimizer.StepCount);
        Assert.Equal(2, copy.Optimizer.StepCount);
        Assert.Equal(0.001, original.LearningRate);
        Assert.Equal(momentBefore, original.Optimizer.FirstMoments[0].abs().sum().item<float>());
        Assert.False(TensorAssert.Identical(copy.Optimizer.FirstMoments[0], original.Optimizer.FirstMoments[0]));
        Assert.False(TensorAssert.Identical(copy.Network.parameters().First(), original.Network.parameters().First()));
    }

    private static void TrainOnce(Individual discriminator)
    {
        using var scope = torch.NewDisposeScope();
        var output = discriminator.Network.call(torch.randn(4, 784));
        discriminator.Optimizer.ZeroGrad();
        output.sum().backward();
        discriminator.Optimizer.Step();
    }
}
