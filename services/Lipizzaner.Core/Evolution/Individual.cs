using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Evolution;

public enum NetworkRole
{
    Generator,
    Discriminator,
}

/// <summary>
/// One member of a population: a network, its own Adam state and learning rate, and its fitness.
/// Fitness is a loss, so lower is better; <see cref="double.NaN"/> means not evaluated yet.
/// </summary>
public sealed class Individual : IDisposable
{
    private Individual(NetworkRole role, NetworkKind kind, Sequential network, double learningRate, Device device)
    {
        Role = role;
        Kind = kind;
        Network = network;
        Device = device;
        Optimizer = new AdamOptimizer(network.parameters(), learningRate);
    }

    public NetworkRole Role { get; }

    public NetworkKind Kind { get; }

    public Sequential Network { get; }

    public Device Device { get; }

    public AdamOptimizer Optimizer { get; }

    /// <summary>The learning rate; it is the optimizer's, so a mutation takes effect at the next step.</summary>
    public double LearningRate
    {
        get => Optimizer.LearningRate;
        set => Optimizer.LearningRate = value;
    }

    public double Fitness { get; set; } = double.NaN;

    /// <summary>Index of the cell whose center this individual came from.</summary>
    public int SourceCell { get; set; }

    /// <summary>Generation at which this individual was last trained or replaced.</summary>
    public int Iteration { get; set; }

    public NetworkSpec Spec => NetworkFactory.Spec(Kind);

    /// <summary>Creates an individual with fresh weights drawn from torch's global random stream.</summary>
    public static Individual Create(NetworkRole role, NetworkKind kind, double learningRate, Device device, int sourceCell)
    {
        var network = role == NetworkRole.Generator
            ? NetworkFactory.CreateGenerator(kind)
            : NetworkFactory.CreateDiscriminator(kind);
        network.to(device);
        return new Individual(role, kind, network, learningRate, device) { SourceCell = sourceCell };
    }

    /// <summary>Returns a deep copy: weights, buffers and optimizer state are new tensors, shared with nothing.</summary>
    public Individual Clone()
    {
        var copy = Create(Role, Kind, LearningRate, Device, SourceCell);
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>Overwrites weights, buffers, optimizer state, learning rate, fitness and origin with those of <paramref name="source"/>.</summary>
    public void CopyFrom(Individual source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Kind != Kind || source.Role != Role)
        {
            throw new ArgumentException($"Cannot copy a {source.Kind} {source.Role} into a {Kind} {Role}.", nameof(source));
        }

        using (torch.no_grad())
        {
            var target = Network.state_dict();
            foreach (var (name, tensor) in source.Network.state_dict())
            {
                target[name].copy_(tensor);
            }
        }

        Optimizer.CopyStateFrom(source.Optimizer);
        Fitness = source.Fitness;
        SourceCell = source.SourceCell;
        Iteration = source.Iteration;
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Network.Dispose();
    }
}
