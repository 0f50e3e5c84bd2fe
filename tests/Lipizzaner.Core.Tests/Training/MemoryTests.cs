using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Training;
using TorchSharp;

namespace Lipizzaner.Core.Tests.Training;

public sealed class MemoryTests
{
    public MemoryTests() => TorchSetup.Configure(1);

    [Fact]
    public void TrainingSteps_ThousandsOfSteps_LeaveNoLiveTensors()
    {
        using var generator = Individual.Create(NetworkRole.Generator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var discriminator = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var random = new torch.Generator(1);
        using var real = torch.rand(16, 784) * 2 - 1;

        // Warm up once: the first backward pass creates the gradient tensors, which then persist.
        RunSteps(generator, discriminator, real, random, 1);
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        RunSteps(generator, discriminator, real, random, 2000);
        long liveAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(liveBefore, liveAfter);
    }

    [Fact]
    public void FitnessEvaluation_Repeated_LeavesNoLiveTensors()
    {
        using var generator = Individual.Create(NetworkRole.Generator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var discriminator = Individual.Create(NetworkRole.Discriminator, NetworkKind.FourLayerPerceptron, 0.0002, torch.CPU, 0);
        using var random = new torch.Generator(1);
        using var real = torch.rand(32, 784) * 2 - 1;

        GanSteps.EvaluateAll([generator], [discriminator], real, FitnessMode.Average, LossKind.Bce, LossKind.Bce, random);
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 500; i++)
        {
            GanSteps.EvaluateAll([generator], [discriminator], real, FitnessMode.Average, LossKind.Bce, LossKind.Bce, random);
        }

        Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private static void RunSteps(Individual generator, Individual discriminator, torch.Tensor real, torch.Generator random, int steps)
    {
        for (int step = 0; step < steps; step++)
        {
            GanSteps.TrainGenerator(generator, discriminator, 16, LossKind.Bce, random);
            GanSteps.TrainDiscriminator(discriminator, generator, real, LossKind.Bce, random);
        }
    }
}
