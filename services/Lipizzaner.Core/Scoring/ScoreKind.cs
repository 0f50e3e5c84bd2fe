namespace Lipizzaner.Core.Scoring;

/// <summary>The quality score of generated images that a run or the <c>score-images</c> command computes.</summary>
public enum ScoreKind
{
    /// <summary>FID on the 10 logits of the MNIST classifier (<c>fid</c>); lower is better.</summary>
    Fid,

    /// <summary>Kernel inception distance on 512 ResNet18 ImageNet features (<c>kid</c>); lower is better.</summary>
    Kid,

    /// <summary>FID on 512 ResNet18 ImageNet features (<c>fid_resnet</c>); lower is better.</summary>
    ResNetFid,

    /// <summary>Inception Score of a user-supplied ONNX classifier (<c>inception_score</c>); higher is better.</summary>
    InceptionScore,
}

/// <summary>Names and the direction of each <see cref="ScoreKind"/>.</summary>
public static class ScoreKinds
{
    /// <summary>Returns the configuration name of <paramref name="kind"/>, as <c>trainer.params.score.type</c> writes it.</summary>
    public static string ConfigName(ScoreKind kind) => kind switch
    {
        ScoreKind.Fid => "fid",
        ScoreKind.Kid => "kid",
        ScoreKind.ResNetFid => "fid_resnet",
        ScoreKind.InceptionScore => "inception_score",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Returns the short label of <paramref name="kind"/> for logs, plots and reports.</summary>
    public static string Label(ScoreKind kind) => kind switch
    {
        ScoreKind.Fid => "FID",
        ScoreKind.Kid => "KID",
        ScoreKind.ResNetFid => "FID (ResNet18)",
        ScoreKind.InceptionScore => "IS",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Whether a larger value is a better score: true only for the Inception Score.</summary>
    public static bool HigherIsBetter(ScoreKind kind) => kind == ScoreKind.InceptionScore;

    /// <summary>Whether <paramref name="candidate"/> is strictly better than <paramref name="current"/> for <paramref name="kind"/>.</summary>
    public static bool IsBetter(ScoreKind kind, double candidate, double current) =>
        HigherIsBetter(kind) ? candidate > current : candidate < current;

    /// <summary>Whether <paramref name="kind"/> scores features of the ResNet18 ImageNet model.</summary>
    public static bool UsesResNet18(ScoreKind kind) => kind is ScoreKind.Kid or ScoreKind.ResNetFid;
}
