using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lipizzaner.Core.Scoring;

/// <summary>
/// The small MNIST classifier whose 10 logits are the FID features, with the original
/// Lipizzaner's architecture and state-dict keys (<c>conv1.*</c>, <c>conv2.*</c>, <c>fc1.*</c>,
/// <c>fc2.*</c>): conv 1→10 k5, max-pool 2, ReLU; conv 10→20 k5, max-pool 2, ReLU; fc 320→50,
/// ReLU, dropout (training only); fc 50→10. Input: flat 28×28 images in [-1, 1].
/// </summary>
public sealed class MnistClassifier : Module<Tensor, Tensor>
{
    public const int FeatureCount = 10;
    public const int ImageSide = 28;

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Dropout dropout;

    public MnistClassifier()
        : base(nameof(MnistClassifier))
    {
        conv1 = Conv2d(1, 10, 5);
        conv2 = Conv2d(10, 20, 5);
        fc1 = Linear(320, 50);
        fc2 = Linear(50, 10);
        dropout = Dropout(0.5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = input.reshape(-1, 1, ImageSide, ImageSide);
        x = functional.relu(functional.max_pool2d(conv1.call(x), 2));
        x = functional.relu(functional.max_pool2d(conv2.call(x), 2));
        x = functional.relu(fc1.call(x.flatten(1)));
        x = dropout.call(x);
        return fc2.call(x).MoveToOuterDisposeScope();
    }

    /// <summary>Returns the logits of <paramref name="images"/> (N, 784) in eval mode, in batches, as a (N, 10) tensor.</summary>
    public Tensor Logits(Tensor images, int batchSize = 1000)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = torch.no_grad();
            var parts = new List<Tensor>();
            using var scope = torch.NewDisposeScope();
            for (long start = 0; start < images.shape[0]; start += batchSize)
            {
                long length = Math.Min(batchSize, images.shape[0] - start);
                parts.Add(call(images.narrow(0, start, length)));
            }

            return torch.cat(parts, 0).MoveToOuterDisposeScope();
        }
        finally
        {
            train(wasTraining);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            fc1.Dispose();
            fc2.Dispose();
            dropout.Dispose();
        }

        base.Dispose(disposing);
    }
}
