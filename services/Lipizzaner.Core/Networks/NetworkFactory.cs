using Lipizzaner.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lipizzaner.Core.Networks;

/// <summary>
/// Shapes shared by a generator and its discriminator. Generators map latent vectors (B, latent)
/// to flat images (B, side·side) in [-1, 1]; discriminators map flat images to probabilities (B).
/// </summary>
public sealed record NetworkSpec(NetworkKind Kind, int LatentSize, int ImageSide)
{
    public int ImageSize => ImageSide * ImageSide;

    /// <summary>The name used in configuration files.</summary>
    public string Name => NetworkFactory.ConfigName(Kind);
}

/// <summary>
/// Builds the generator and discriminator of each network kind as <c>Sequential</c>
/// modules. Layers are numbered from 0 like a PyTorch <c>nn.Sequential</c>, so state-dict keys are
/// <c>0.weight</c>, <c>0.bias</c>, …; for the perceptrons these are exactly the keys of the original
/// Lipizzaner's networks. Convolutional networks start with an <c>Unflatten</c> and end with a
/// <c>Flatten</c>, which hold no parameters, so every network takes and returns flat tensors.
/// </summary>
public static class NetworkFactory
{
    private const double LeakySlope = 0.2;

    public static NetworkSpec Spec(NetworkKind kind) => kind switch
    {
        NetworkKind.FourLayerPerceptron => new NetworkSpec(kind, 64, 28),
        NetworkKind.FiveLayerPerceptron => new NetworkSpec(kind, 64, 28),
        NetworkKind.Cnn28 => new NetworkSpec(kind, 100, 28),
        NetworkKind.Cnn64 => new NetworkSpec(kind, 100, 64),
        NetworkKind.Cnn128 => new NetworkSpec(kind, 100, 128),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
    };

    public static string ConfigName(NetworkKind kind) => kind switch
    {
        NetworkKind.FourLayerPerceptron => "4lp",
        NetworkKind.FiveLayerPerceptron => "5lp",
        NetworkKind.Cnn28 => "cnn28",
        NetworkKind.Cnn64 => "cnn64",
        NetworkKind.Cnn128 => "cnn128",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
    };

    /// <summary>Creates a generator with fresh weights from torch's global random stream.</summary>
    public static Sequential CreateGenerator(NetworkKind kind)
    {
        var spec = Spec(kind);
        Sequential network = kind switch
        {
            NetworkKind.FourLayerPerceptron => Numbered(
                Linear(64, 256), LeakyReLU(LeakySlope),
                Linear(256, 256), LeakyReLU(LeakySlope),
                Linear(256, spec.ImageSize), Tanh()),
            NetworkKind.FiveLayerPerceptron => Numbered(
                Linear(64, 256), LeakyReLU(LeakySlope),
                Linear(256, 256), LeakyReLU(LeakySlope),
                Linear(256, 512), LeakyReLU(LeakySlope),
                Linear(512, spec.ImageSize), Tanh()),

            // The original fork's 28×28 generator: spatial 1→4→8→16→28, 128 base filters.
            NetworkKind.Cnn28 => Numbered(
                Unflatten(1, [100, 1, 1]),
                ConvTranspose2d(100, 512, 4, 1, 0), BatchNorm2d(512), LeakyReLU(LeakySlope),
                ConvTranspose2d(512, 256, 4, 2, 1), BatchNorm2d(256), LeakyReLU(LeakySlope),
                ConvTranspose2d(256, 128, 4, 2, 1), BatchNorm2d(128), LeakyReLU(LeakySlope),
                ConvTranspose2d(128, 1, 4, 2, 3), Tanh(),
                Flatten()),

            // DCGAN-64 with one channel: spatial 1→4→8→16→32→64, 64 base filters.
            NetworkKind.Cnn64 => Numbered(
                Unflatten(1, [100, 1, 1]),
                ConvTranspose2d(100, 512, 4, 1, 0), BatchNorm2d(512), ReLU(),
                ConvTranspose2d(512, 256, 4, 2, 1), BatchNorm2d(256), ReLU(),
                ConvTranspose2d(256, 128, 4, 2, 1), BatchNorm2d(128), ReLU(),
                ConvTranspose2d(128, 64, 4, 2, 1), BatchNorm2d(64), ReLU(),
                ConvTranspose2d(64, 1, 4, 2, 1), Tanh(),
                Flatten()),

            // The original fork's 128×128 grayscale generator: spatial 1→8→16→32→64→128.
            NetworkKind.Cnn128 => Numbered(
                Unflatten(1, [100, 1, 1]),
                ConvTranspose2d(100, 1024, 8, 1, 0), BatchNorm2d(1024), LeakyReLU(LeakySlope),
                ConvTranspose2d(1024, 512, 4, 2, 1), BatchNorm2d(512), LeakyReLU(LeakySlope),
                ConvTranspose2d(512, 256, 4, 2, 1), BatchNorm2d(256), LeakyReLU(LeakySlope),
                ConvTranspose2d(256, 128, 4, 2, 1), BatchNorm2d(128), LeakyReLU(LeakySlope),
                ConvTranspose2d(128, 1, 4, 2, 1), Tanh(),
                Flatten()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
        };

        InitialiseConvolutions(network);
        return network;
    }

    /// <summary>Creates a discriminator with fresh weights from torch's global random stream.</summary>
    public static Sequential CreateDiscriminator(NetworkKind kind)
    {
        var spec = Spec(kind);
        Sequential network = kind switch
        {
            NetworkKind.FourLayerPerceptron => Numbered(
                Linear(spec.ImageSize, 256), LeakyReLU(LeakySlope),
                Linear(256, 256), LeakyReLU(LeakySlope),
                Linear(256, 1), Sigmoid(),
                Flatten(0)),
            NetworkKind.FiveLayerPerceptron => Numbered(
                Linear(spec.ImageSize, 512), LeakyReLU(LeakySlope),
                Linear(512, 256), LeakyReLU(LeakySlope),
                Linear(256, 256), LeakyReLU(LeakySlope),
                Linear(256, 1), Sigmoid(),
                Flatten(0)),

            // Spatial 28→16→8→4→1.
            NetworkKind.Cnn28 => Numbered(
                Unflatten(1, [1, 28, 28]),
                Conv2d(1, 128, 4, 2, 3), LeakyReLU(LeakySlope),
                Conv2d(128, 256, 4, 2, 1), BatchNorm2d(256), LeakyReLU(LeakySlope),
                Conv2d(256, 512, 4, 2, 1), BatchNorm2d(512), LeakyReLU(LeakySlope),
                Conv2d(512, 1, 4, 1, 0), Sigmoid(),
                Flatten(0)),

            // DCGAN-64 discriminator, spatial 64→32→16→8→4→1, no batch norm on the first layer.
            NetworkKind.Cnn64 => Numbered(
                Unflatten(1, [1, 64, 64]),
                Conv2d(1, 64, 4, 2, 1), LeakyReLU(LeakySlope),
                Conv2d(64, 128, 4, 2, 1), BatchNorm2d(128), LeakyReLU(LeakySlope),
                Conv2d(128, 256, 4, 2, 1), BatchNorm2d(256), LeakyReLU(LeakySlope),
                Conv2d(256, 512, 4, 2, 1), BatchNorm2d(512), LeakyReLU(LeakySlope),
                Conv2d(512, 1, 4, 1, 0), Sigmoid(),
                Flatten(0)),

            // Spatial 128→66→33→16→8→1.
            NetworkKind.Cnn128 => Numbered(
                Unflatten(1, [1, 128, 128]),
                Conv2d(1, 128, 4, 2, 3), LeakyReLU(LeakySlope),
                Conv2d(128, 256, 4, 2, 1), BatchNorm2d(256), LeakyReLU(LeakySlope),
                Conv2d(256, 512, 4, 2, 1), BatchNorm2d(512), LeakyReLU(LeakySlope),
                Conv2d(512, 512, 4, 2, 1), BatchNorm2d(512), LeakyReLU(LeakySlope),
                Conv2d(512, 1, 8, 1, 0), Sigmoid(),
                Flatten(0)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
        };

        InitialiseConvolutions(network);
        return network;
    }

    /// <summary>Returns the number of trainable parameters (buffers such as batch-norm statistics excluded).</summary>
    public static long CountParameters(Module module) =>
        module.parameters().Sum(parameter => parameter.numel());

    private static Sequential Numbered(params Module<Tensor, Tensor>[] layers) =>
        Sequential(layers.Select((layer, index) => (index.ToString(System.Globalization.CultureInfo.InvariantCulture), layer)));

    /// <summary>
    /// Draws convolution weights from N(0, 0.02) with zero bias, as the DCGAN recipe and the original
    /// factories do. Linear and batch-norm layers keep torch's default initialisation.
    /// </summary>
    private static void InitialiseConvolutions(Sequential network)
    {
        using var noGrad = torch.no_grad();
        foreach (var module in network.children())
        {
            if (module is TorchSharp.Modules.Conv2d or TorchSharp.Modules.ConvTranspose2d)
            {
                foreach (var (name, parameter) in module.named_parameters())
                {
                    if (name == "weight")
                    {
                        init.normal_(parameter, 0.0, 0.02);
                    }
                    else if (name == "bias")
                    {
                        init.zeros_(parameter);
                    }
                }
            }
        }
    }
}
