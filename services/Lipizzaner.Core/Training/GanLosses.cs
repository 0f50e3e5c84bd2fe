using Lipizzaner.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Training;

/// <summary>
/// Generator and discriminator losses on discriminator outputs that are probabilities (the
/// discriminators end in a sigmoid). Targets are exactly 1 for real and 0 for generated images.
/// </summary>
public static class GanLosses
{
    /// <summary>
    /// Generator loss. BCE is the non-saturating loss <c>-mean log D(G(z))</c>; MSE is the
    /// least-squares loss towards 1; heuristic is <c>-0.5 mean log D(G(z))</c>. Log terms are clamped
    /// at -100, as libtorch's binary cross-entropy does, so a saturated discriminator gives a finite loss.
    /// </summary>
    public static Tensor Generator(LossKind kind, Tensor fakeOutput) => kind switch
    {
        LossKind.Bce => nn.functional.binary_cross_entropy(fakeOutput, torch.ones_like(fakeOutput)),
        LossKind.Mse => nn.functional.mse_loss(fakeOutput, torch.ones_like(fakeOutput)),
        LossKind.Heuristic => -0.5 * fakeOutput.log().clamp_min(-100).mean(),
        _ => throw new ArgumentOutOfRangeException(
            nameof(kind), kind, "Mustangs picks one of BCE, MSE or heuristic before calling this."),
    };

    /// <summary>
    /// Discriminator loss: the sum of the real-term mean and the fake-term mean. The heuristic loss
    /// is defined for generators only, so the discriminator uses BCE for it and for Mustangs.
    /// </summary>
    public static Tensor Discriminator(LossKind kind, Tensor realOutput, Tensor fakeOutput)
    {
        if (kind == LossKind.Mse)
        {
            return nn.functional.mse_loss(realOutput, torch.ones_like(realOutput))
                + nn.functional.mse_loss(fakeOutput, torch.zeros_like(fakeOutput));
        }

        return nn.functional.binary_cross_entropy(realOutput, torch.ones_like(realOutput))
            + nn.functional.binary_cross_entropy(fakeOutput, torch.zeros_like(fakeOutput));
    }
}
