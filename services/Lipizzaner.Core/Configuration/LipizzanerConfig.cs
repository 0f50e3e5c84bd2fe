using Lipizzaner.Core.Scoring;

namespace Lipizzaner.Core.Configuration;

/// <summary>
/// The effective settings of one training run. Section and key names follow the original
/// Lipizzaner's YAML files (for example <c>trainer.params.population_size</c>); the
/// <c>grid</c> and <c>runtime</c> sections and a few keys marked below are additions of this
/// implementation. <c>ConfigLoader</c> fills and validates it.
/// </summary>
public sealed class LipizzanerConfig
{
    public GeneralSettings General { get; set; } = new();

    public GridSettings Grid { get; set; } = new();

    public TrainerSettings Trainer { get; set; } = new();

    public DataLoaderSettings DataLoader { get; set; } = new();

    public NetworkSettings Network { get; set; } = new();

    public RuntimeSettings Runtime { get; set; } = new();

    public DistributionSettings Distribution { get; set; } = new();
}

public sealed class GeneralSettings
{
    /// <summary>Run seed; each cell derives its own streams from it and its cell index.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Checkpoint every this many generations; 0 disables checkpoints.</summary>
    public int CheckpointPeriod { get; set; }

    /// <summary>Write a PNG sample grid per cell every this many generations; 0 disables (addition).</summary>
    public int SamplePeriod { get; set; } = 1;
}

/// <summary>Toroidal grid size (addition: the original derives it from its client list).</summary>
public sealed class GridSettings
{
    public int Width { get; set; } = 2;

    public int Height { get; set; } = 2;
}

public sealed class TrainerSettings
{
    /// <summary>Trainer kind; only <c>lipizzaner_gan</c> is implemented.</summary>
    public string Name { get; set; } = "lipizzaner_gan";

    /// <summary>Number of generations.</summary>
    public int NIterations { get; set; } = 10;

    public MixtureSampling MixtureGeneratorSamplesMode { get; set; } = MixtureSampling.ExactProportion;

    public TrainerParams Params { get; set; } = new();
}

public sealed class TrainerParams
{
    public int PopulationSize { get; set; } = 1;

    public int TournamentSize { get; set; } = 2;

    public int NReplacements { get; set; } = 1;

    /// <summary>Initial Adam learning rate, and the scale of the learning-rate mutation.</summary>
    public double DefaultAdamLearningRate { get; set; } = 0.0002;

    /// <summary>Step size of the learning-rate mutation, which Flores et al. call the mutation rate.</summary>
    public double Alpha { get; set; } = 0.0001;

    /// <summary>Probability that a learning-rate mutation is applied, per individual and generation.</summary>
    public double MutationProbability { get; set; } = 0.5;

    /// <summary>The discriminator trains on batches whose index is divisible by this value plus one.</summary>
    public int DiscriminatorSkipEachNthStep { get; set; }

    /// <summary>Standard deviation of the mixture-weight mutation.</summary>
    public double MixtureSigma { get; set; } = 0.01;

    public bool EnableSelection { get; set; } = true;

    /// <summary>Where gradient-step opponents come from (addition).</summary>
    public OpponentSource Opponent { get; set; } = OpponentSource.Neighbourhood;

    public ScoreSettings Score { get; set; } = new();

    public FitnessSettings Fitness { get; set; } = new();

    public OptimizeMixtureSettings OptimizeMixture { get; set; } = new();
}

public sealed class ScoreSettings
{
    /// <summary>Score the mixture and run the mixture-weight (1+1)-ES every generation.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Score kind: <c>fid</c> (MNIST classifier logits, MNIST only), <c>kid</c> or <c>fid_resnet</c> (ResNet18
    /// ImageNet features), or <c>inception_score</c> (<see cref="ClassifierOnnx"/>).
    /// </summary>
    public ScoreKind Type { get; set; } = ScoreKind.Fid;

    /// <summary>Random subsets per KID estimate.</summary>
    public int KidSubsets { get; set; } = Kid.DefaultSubsets;

    /// <summary>Samples per KID subset, capped at the smaller of the real and generated sets.</summary>
    public int KidSubsetSize { get; set; } = Kid.DefaultSubsetSize;

    /// <summary>ONNX image classifier with class logits for <c>inception_score</c>.</summary>
    public string ClassifierOnnx { get; set; } = "";

    /// <summary>Generated and real samples per score evaluation during training.</summary>
    public int ScoreSampleSize { get; set; } = 1000;

    /// <summary>Samples for the final score of each cell's mixture (addition; the original's
    /// <c>master.score_sample_size</c>).</summary>
    public int FinalSampleSize { get; set; } = 10000;
}

public sealed class FitnessSettings
{
    /// <summary>Real samples (and as many generated ones) per fitness evaluation.</summary>
    public int FitnessSampleSize { get; set; } = 1000;

    public FitnessMode FitnessMode { get; set; } = FitnessMode.Average;
}

public sealed class OptimizeMixtureSettings
{
    /// <summary>Generations of the end-of-run mixture-weight ES on the best cell; 0 disables.</summary>
    public int EsGenerations { get; set; }

    /// <summary>Samples per evaluation of the end-of-run ES (fixed latent noise).</summary>
    public int SampleSize { get; set; } = 1000;

    /// <summary>Mutation standard deviation of the end-of-run ES; defaults to trainer.params.mixture_sigma.</summary>
    public double? MixtureSigma { get; set; }
}

public sealed class DataLoaderSettings
{
    /// <summary>Data set: <c>mnist</c>, or <c>image_folder</c> for the JPEG and PNG files under <see cref="Path"/>.</summary>
    public string DatasetName { get; set; } = "mnist";

    public int BatchSize { get; set; } = 100;

    /// <summary>Batches per generation; 0 means the whole epoch.</summary>
    public int NBatches { get; set; }

    /// <summary>Reshuffle the training data every generation.</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>Images per sample grid.</summary>
    public int SampleCount { get; set; } = 64;

    /// <summary>Folder with the four MNIST IDX files; empty means the verified download cache (addition).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>With <c>image_folder</c>: folder of images, or of class sub-folders of images (addition).</summary>
    public string Path { get; set; } = "";

    /// <summary>With <c>image_folder</c>: image side in pixels; 0 means the network's (addition).</summary>
    public int ImageSize { get; set; }

    /// <summary>With <c>image_folder</c>: how non-square images become square (addition).</summary>
    public ImageResizePolicy ResizePolicy { get; set; } = ImageResizePolicy.CenterCrop;

    /// <summary>With <c>image_folder</c>: an undecodable file is an error instead of a warning (addition).</summary>
    public bool Strict { get; set; }

    /// <summary>SMOTE to this many times the number of images, originals included; 0 or 1 means off.</summary>
    public int SmoteAugmentationTimes { get; set; }

    /// <summary>Nearest neighbours of the same class that SMOTE interpolates towards.</summary>
    public int SmoteNeighbours { get; set; } = 5;

    /// <summary>Originals plus this many minus one noisy copies of each; 0 or 1 means off.</summary>
    public int GaussianAugmentationTimes { get; set; }

    /// <summary>Mean of the added noise, in the [-1, 1] pixel scale.</summary>
    public double GaussianAugmentationMean { get; set; }

    /// <summary>Standard deviation of the added noise, in the [-1, 1] pixel scale.</summary>
    public double GaussianAugmentationStd { get; set; }
}

/// <summary>How an image folder's non-square images become square.</summary>
public enum ImageResizePolicy
{
    /// <summary>Keep the central square.</summary>
    CenterCrop,

    /// <summary>Keep the whole image on a black square.</summary>
    Pad,
}

public sealed class NetworkSettings
{
    public NetworkKind Name { get; set; } = NetworkKind.FourLayerPerceptron;

    public LossKind Loss { get; set; } = LossKind.Bce;

    /// <summary>With the Mustangs loss: draw the generator's loss every batch instead of once per cell.</summary>
    public bool Randomized { get; set; }
}

/// <summary>How the embedded runner schedules cells (addition).</summary>
public sealed class RuntimeSettings
{
    public RunMode Mode { get; set; } = RunMode.Asynchronous;

    /// <summary>Cells trained at the same time; 0 means one per processor.</summary>
    public int Parallelism { get; set; }

    /// <summary>Torch intra-op threads per cell worker thread.</summary>
    public int TorchThreads { get; set; } = 1;

    /// <summary>Torch device: <c>cpu</c> or <c>cuda</c> (or <c>cuda:N</c>).</summary>
    public string Device { get; set; } = "cpu";
}

/// <summary>
/// How a coordinator forms the grid and ends a distributed run (addition). Every value is optional:
/// an unset one takes the coordinator's own setting of the same name. The embedded runner reads none.
/// Durations are in seconds.
/// </summary>
public sealed class DistributionSettings
{
    /// <summary>Cells of registered worker capacity at which the grid is built.</summary>
    public int? MinClients { get; set; }

    /// <summary>Most cells in the grid, however much capacity registers.</summary>
    public int? MaxClients { get; set; }

    /// <summary>Seconds a new run waits for <see cref="MinClients"/> cells of capacity before it fails.</summary>
    public double? RegistrationTimeout { get; set; }

    /// <summary>Share of the cells that must complete before the straggler clock starts, in (0, 1].</summary>
    public double? FinishProportion { get; set; }

    /// <summary>Seconds the remaining cells may run once <see cref="FinishProportion"/> of the cells completed.</summary>
    public double? StragglerTimeout { get; set; }

    /// <summary>Most cells dead at once (lease expired, not leased again) before the run aborts.</summary>
    public int? MaxDeadCells { get; set; }

    /// <summary>Seconds a lease lasts without a heartbeat.</summary>
    public double? LeaseDuration { get; set; }

    /// <summary>Seconds between a worker's lease renewals while a cell trains; at most a third of <see cref="LeaseDuration"/>.</summary>
    public double? HeartbeatInterval { get; set; }

    /// <summary>Largest width-to-height ratio of the grid.</summary>
    public double? MaxAspectRatio { get; set; }
}

public enum MixtureSampling
{
    ExactProportion,
    IndependentProbability,
}

public enum OpponentSource
{
    /// <summary>Each batch draws the opponent uniformly from the neighbourhood sub-population.</summary>
    Neighbourhood,

    /// <summary>The selected generator and discriminator train against each other (the original's behaviour).</summary>
    Selected,
}

public enum FitnessMode
{
    /// <summary>The maximum loss over the opponents (the original's <c>worse</c>).</summary>
    Worst,

    /// <summary>The minimum loss over the opponents.</summary>
    Best,

    /// <summary>The mean loss over the opponents.</summary>
    Average,
}

public enum NetworkKind
{
    /// <summary><c>4lp</c>: 64→256→256→784 MLP generator, 784→256→256→1 discriminator.</summary>
    FourLayerPerceptron,

    /// <summary><c>5lp</c>: 64→256→256→512→784 generator, 784→512→256→256→1 discriminator.</summary>
    FiveLayerPerceptron,

    /// <summary><c>cnn28</c>: the original fork's 28×28 convolutional pair, 128 base filters.</summary>
    Cnn28,

    /// <summary><c>cnn64</c>: DCGAN-64 with one channel, latent 100 and 64 base filters.</summary>
    Cnn64,

    /// <summary><c>cnn128</c>: the original fork's 128×128 grayscale convolutional pair.</summary>
    Cnn128,
}

public enum LossKind
{
    Bce,
    Mse,
    Heuristic,
    Mustangs,
}

public enum RunMode
{
    /// <summary>No barrier: a cell uses the newest neighbour centers it can read.</summary>
    Asynchronous,

    /// <summary>Every cell finishes a generation before any starts the next; bit-identical per seed on CPU.</summary>
    Lockstep,
}
