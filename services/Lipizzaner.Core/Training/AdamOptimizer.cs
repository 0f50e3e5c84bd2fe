using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Training;

/// <summary>
/// Adam with the update rule of <c>torch.optim.Adam</c> (no weight decay, no AMSGrad), written out
/// so that its state is plain data. It is deep-copied with an individual and serialised into
/// checkpoints and exchange payloads, and each step uses the value of <see cref="LearningRate"/> at
/// that moment. That last point is deliberate: the original Lipizzaner rebuilt
/// its optimizer every batch and restored the stored learning rate, so mutations never took effect.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    public const double Beta1 = 0.5;
    public const double Beta2 = 0.999;
    public const double Epsilon = 1e-8;

    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
        _firstMoments = new Tensor[_parameters.Length];
        _secondMoments = new Tensor[_parameters.Length];
        for (int i = 0; i < _parameters.Length; i++)
        {
            _firstMoments[i] = torch.zeros_like(_parameters[i]).DetachFromDisposeScope();
            _secondMoments[i] = torch.zeros_like(_parameters[i]).DetachFromDisposeScope();
        }
    }

    /// <summary>The learning rate the next <see cref="Step"/> uses.</summary>
    public double LearningRate { get; set; }

    /// <summary>Number of steps taken so far; it drives the bias correction.</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<Tensor> FirstMoments => _firstMoments;

    public IReadOnlyList<Tensor> SecondMoments => _secondMoments;

    public void ZeroGrad()
    {
        foreach (var parameter in _parameters)
        {
            parameter.grad?.zero_();
        }
    }

    /// <summary>Applies one Adam update to every parameter that has a gradient.</summary>
    public void Step()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        StepCount++;
        double biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        double stepSize = LearningRate / biasCorrection1;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var gradient = _parameters[i].grad;
            if (gradient is null)
            {
                continue;
            }

            _firstMoments[i].mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
            _secondMoments[i].mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
            var denominator = (_secondMoments[i].sqrt() / biasCorrection2Sqrt).add_(Epsilon);
            _parameters[i].addcdiv_(_firstMoments[i], denominator, value: -stepSize);
        }
    }

    /// <summary>Copies step count and moments from <paramref name="source"/>, which must track parameters of the same shapes.</summary>
    public void CopyStateFrom(AdamOptimizer source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source._parameters.Length != _parameters.Length)
        {
            throw new ArgumentException(
                $"Optimizer state for {source._parameters.Length} parameters cannot be copied to one with {_parameters.Length}.",
                nameof(source));
        }

        using var noGrad = torch.no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _firstMoments[i].copy_(source._firstMoments[i]);
            _secondMoments[i].copy_(source._secondMoments[i]);
        }

        StepCount = source.StepCount;
        LearningRate = source.LearningRate;
    }

    /// <summary>Restores step count and moments, for example from a checkpoint.</summary>
    public void LoadState(long stepCount, IReadOnlyList<Tensor> firstMoments, IReadOnlyList<Tensor> secondMoments)
    {
        if (firstMoments.Count != _parameters.Length || secondMoments.Count != _parameters.Length)
        {
            throw new InvalidDataException(
                $"Optimizer state holds {firstMoments.Count} moment tensors; the network has {_parameters.Length} parameters.");
        }

        using var noGrad = torch.no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _firstMoments[i].copy_(firstMoments[i]);
            _secondMoments[i].copy_(secondMoments[i]);
        }

        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var tensor in _firstMoments.Concat(_secondMoments))
        {
            tensor.Dispose();
        }
    }
}
