using Lipizzaner.Core.Data;
using Lipizzaner.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// The real images the cells train on: flat (N, side·side) in [-1, 1] on the training device,
/// resized to the network's image side when it differs from the data's.
/// </summary>
public sealed class TrainingData : IDisposable
{
    public TrainingData(Tensor images, int side)
    {
        Images = images;
        Side = side;
    }

    public Tensor Images { get; }

    public int Side { get; }

    public long Count => Images.shape[0];

    public static TrainingData FromMnist(MnistDataset dataset, int networkSide, Device device)
    {
        using var scope = torch.NewDisposeScope();
        // Clone first: the data set keeps ownership of its own tensor.
        var images = ImageResize.ToSide(dataset.Images.clone(), networkSide).to(device).contiguous();
        return new TrainingData(images.DetachFromDisposeScope(), networkSide);
    }

    public void Dispose() => Images.Dispose();
}
