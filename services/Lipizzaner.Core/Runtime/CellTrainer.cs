using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Runtime;

/// <summary>What one cell did in one generation: the row of <c>scores.csv</c>.</summary>
public sealed record GenerationRecord(
    int Generation,
    int CellIndex,
    double Score,
    double Tvd,
    double GeneratorLoss,
    double DiscriminatorLoss,
    double GeneratorLearningRate,
    double DiscriminatorLearningRate,
    IReadOnlyList<double> MixtureWeights,
    bool MixtureAccepted,
    int GeneratorReplacements,
    int DiscriminatorReplacements,
    IReadOnlyList<int> NeighbourGenerations,
    double Seconds);

/// <summary>
/// Runs the Lipizzaner generation loop for one cell of the grid. Each generation copies the
/// neighbours' centers and evaluates all generators against all discriminators on one real batch.
/// It then selects by tournament, mutates learning rates, trains the selected pair over the epoch,
/// replaces the worst local individuals, and evolves the mixture weights. The cell touches only its own state and snapshots from the exchange, so cells can run
/// on parallel threads; every random draw comes from the cell's own streams.
/// </summary>
public sealed class CellTrainer : IDisposable
{
    private const ulong RandomPurpose = 1;
    private const ulong TorchPurpose = 2;
    private const ulong InitialisationPurpose = 3;
    private const ulong FinalScorePurpose = 4;

    // Network creation draws from torch's process-wide random stream; the lock makes
    // "seed, then build" atomic when several cells start on parallel threads.
    private static readonly Lock InitialisationLock = new();

    private readonly LipizzanerConfig _config;
    private readonly TrainingData _data;
    private readonly IImageScorer? _scorer;
    private readonly Device _device;
    private readonly LearningRateMutation _mutation;
    private readonly int[] _mixtureMembers;

    private readonly TimeProvider _time;

    public CellTrainer(
        int cellIndex,
        LipizzanerConfig config,
        GridTopology topology,
        TrainingData data,
        IImageScorer? scorer,
        Device device,
        TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        CellIndex = cellIndex;
        _config = config;
        _data = data;
        _scorer = scorer;
        _device = device;
        var parameters = config.Trainer.Params;
        _mutation = new LearningRateMutation(parameters.DefaultAdamLearningRate, parameters.Alpha, parameters.MutationProbability);
        Neighbours = topology.Neighbours(cellIndex);
        _mixtureMembers = [.. Neighbours.Append(cellIndex).Order()];
    }

    public int CellIndex { get; }

    public IReadOnlyList<int> Neighbours { get; }

    /// <summary>The cells whose center generators form this cell's mixture (neighbours and itself), ascending.</summary>
    public IReadOnlyList<int> MixtureMembers => _mixtureMembers;

    public CellState State { get; private set; } = null!;

    /// <summary>Creates generation-0 state: fresh networks seeded from (run seed, cell index), uniform mixture weights.</summary>
    public void Initialise()
    {
        var parameters = _config.Trainer.Params;
        int seed = _config.General.Seed;
        var random = new CellRandom(CellRandom.DeriveSeed(seed, CellIndex, RandomPurpose));
        var generators = new List<Individual>();
        var discriminators = new List<Individual>();
        lock (InitialisationLock)
        {
            torch.manual_seed((long)(CellRandom.DeriveSeed(seed, CellIndex, InitialisationPurpose) >> 1));
            for (int i = 0; i < parameters.PopulationSize; i++)
            {
                generators.Add(Individual.Create(
                    NetworkRole.Generator, _config.Network.Name, parameters.DefaultAdamLearningRate, _device, CellIndex));
                discriminators.Add(Individual.Create(
                    NetworkRole.Discriminator, _config.Network.Name, parameters.DefaultAdamLearningRate, _device, CellIndex));
            }
        }

        var cellLoss = _config.Network.Loss == LossKind.Mustangs ? DrawMustangsLoss(random) : _config.Network.Loss;
        State = new CellState
        {
            CellIndex = CellIndex,
            Generators = generators,
            Discriminators = discriminators,
            MixtureWeights = MixtureEvolution.Uniform(_mixtureMembers.Length),
            CellGeneratorLoss = cellLoss,
            Random = random,
            TorchRandom = new torch.Generator(CellRandom.DeriveSeed(seed, CellIndex, TorchPurpose)),
        };

        // Every individual gets a defined fitness before the first comparison.
        foreach (var individual in generators.Concat(discriminators))
        {
            individual.Fitness = double.PositiveInfinity;
        }
    }

    /// <summary>Replaces the state with one restored from a checkpoint.</summary>
    public void Restore(CellState state)
    {
        if (state.CellIndex != CellIndex)
        {
            throw new InvalidDataException($"Checkpoint of cell {state.CellIndex} cannot restore cell {CellIndex}.");
        }

        if (state.MixtureWeights.Length != _mixtureMembers.Length)
        {
            throw new InvalidDataException(
                $"Checkpoint of cell {CellIndex} has {state.MixtureWeights.Length} mixture weights; this grid gives the cell {_mixtureMembers.Length} mixture members. Resume with the grid size of the original run.");
        }

        State?.Dispose();
        State = state;
    }

    public CenterSnapshot Center() =>
        CenterCodec.Encode(CellIndex, State.Generation, State.CenterGenerator, State.CenterDiscriminator);

    /// <summary>Runs one generation against the newest neighbour centers in <paramref name="exchange"/>.</summary>
    public async Task<GenerationRecord> RunGenerationAsync(ICenterExchange exchange, CancellationToken cancellationToken)
    {
        var neighbours = new List<(int Cell, int Generation, Individual Generator, Individual Discriminator)>();
        foreach (int neighbour in Neighbours)
        {
            var snapshot = await exchange.TryGetLatestAsync(neighbour, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                continue;
            }

            var (generator, discriminator) = CenterCodec.Decode(snapshot, _device);
            neighbours.Add((neighbour, snapshot.Generation, generator, discriminator));
        }

        try
        {
            torch.set_num_threads(_config.Runtime.TorchThreads);
            return RunGeneration(neighbours, cancellationToken);
        }
        finally
        {
            foreach (var (_, _, generator, discriminator) in neighbours)
            {
                generator.Dispose();
                discriminator.Dispose();
            }
        }
    }

    /// <summary>Scores the cell's mixture with <paramref name="scorer"/> on <paramref name="sampleCount"/> samples, with noise fixed by the run seed.</summary>
    public ScoreResult ScoreMixture(
        IReadOnlyList<Sequential?> memberGenerators, IReadOnlyList<double> weights, int sampleCount, IImageScorer scorer)
    {
        var random = new CellRandom(CellRandom.DeriveSeed(_config.General.Seed, CellIndex, FinalScorePurpose));
        using var torchRandom = new torch.Generator(CellRandom.DeriveSeed(_config.General.Seed, CellIndex, FinalScorePurpose));
        using var scope = torch.NewDisposeScope();
        var latent = Latent(sampleCount, State.CenterGenerator.Spec.LatentSize, torchRandom);
        return ScoreWithLatent(memberGenerators, weights, latent, random, scorer);
    }

    public void Dispose() => State?.Dispose();

    private GenerationRecord RunGeneration(
        List<(int Cell, int Generation, Individual Generator, Individual Discriminator)> neighbours,
        CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        var parameters = _config.Trainer.Params;
        var state = State;
        var allGenerators = neighbours.Select(n => n.Generator).Concat(state.Generators).ToList();
        var allDiscriminators = neighbours.Select(n => n.Discriminator).Concat(state.Discriminators).ToList();

        using var scope = torch.NewDisposeScope();
        var fitnessBatch = RandomRows(parameters.Fitness.FitnessSampleSize);
        Evaluate(allGenerators, allDiscriminators, fitnessBatch, state.CellGeneratorLoss);

        List<Individual> trainedGenerators;
        List<Individual> trainedDiscriminators;
        if (parameters.EnableSelection)
        {
            trainedGenerators = Selection.Tournament(allGenerators, parameters.PopulationSize, parameters.TournamentSize, state.Random);
            trainedDiscriminators = Selection.Tournament(allDiscriminators, parameters.PopulationSize, parameters.TournamentSize, state.Random);
        }
        else
        {
            trainedGenerators = state.Generators;
            trainedDiscriminators = state.Discriminators;
        }

        try
        {
            foreach (var individual in trainedGenerators.Concat(trainedDiscriminators))
            {
                _mutation.Apply(individual, state.Random);
            }

            // During the epoch the cell's own member of the sub-population is the individual being
            // trained, so an opponent drawn from the neighbourhood is either a neighbour's center
            // (fixed for the generation) or this cell's co-trained counterpart.
            var opponentGenerators = neighbours.Select(n => n.Generator).Concat(trainedGenerators).ToList();
            var opponentDiscriminators = neighbours.Select(n => n.Discriminator).Concat(trainedDiscriminators).ToList();
            TrainEpoch(trainedGenerators, trainedDiscriminators, opponentGenerators, opponentDiscriminators, cancellationToken);

            int generatorReplacements = 0;
            int discriminatorReplacements = 0;
            if (parameters.EnableSelection)
            {
                Evaluate(trainedGenerators, allDiscriminators, trainedDiscriminators, allGenerators, fitnessBatch);
                generatorReplacements = Selection.Replace(state.Generators, trainedGenerators, parameters.NReplacements);
                discriminatorReplacements = Selection.Replace(state.Discriminators, trainedDiscriminators, parameters.NReplacements);
            }
            else
            {
                Evaluate(state.Generators, allDiscriminators, state.Discriminators, allGenerators, fitnessBatch);
                Selection.SortByFitness(state.Generators);
                Selection.SortByFitness(state.Discriminators);
            }

            state.Generation++;
            foreach (var individual in state.Generators.Concat(state.Discriminators))
            {
                individual.SourceCell = CellIndex;
            }

            state.CenterGenerator.Iteration = state.Generation;
            state.CenterDiscriminator.Iteration = state.Generation;

            var (score, tvd, accepted) = EvolveMixture(neighbours);
            return new GenerationRecord(
                state.Generation,
                CellIndex,
                score,
                tvd,
                state.CenterGenerator.Fitness,
                state.CenterDiscriminator.Fitness,
                state.CenterGenerator.LearningRate,
                state.CenterDiscriminator.LearningRate,
                state.MixtureWeights.ToArray(),
                accepted,
                generatorReplacements,
                discriminatorReplacements,
                neighbours.Select(n => n.Generation).ToArray(),
                _time.GetElapsedTime(started).TotalSeconds);
        }
        finally
        {
            if (parameters.EnableSelection)
            {
                foreach (var individual in trainedGenerators.Concat(trainedDiscriminators))
                {
                    individual.Dispose();
                }
            }
        }
    }

    private void TrainEpoch(
        List<Individual> generators,
        List<Individual> discriminators,
        List<Individual> neighbourhoodGenerators,
        List<Individual> neighbourhoodDiscriminators,
        CancellationToken cancellationToken)
    {
        var parameters = _config.Trainer.Params;
        var state = State;
        int batchSize = _config.DataLoader.BatchSize;
        int available = (int)(_data.Count / batchSize);
        int batches = _config.DataLoader.NBatches == 0 ? available : Math.Min(_config.DataLoader.NBatches, available);
        if (batches == 0)
        {
            throw new InvalidOperationException(
                $"dataloader.batch_size {batchSize} is larger than the {_data.Count} training images; choose a smaller batch size.");
        }

        using var order = _config.DataLoader.Shuffle
            ? torch.randperm(_data.Count, generator: state.TorchRandom)
            : torch.arange(_data.Count, dtype: ScalarType.Int64);
        bool selectedOpponents = parameters.Opponent == OpponentSource.Selected;
        var discriminatorPool = selectedOpponents ? discriminators : neighbourhoodDiscriminators;
        var generatorPool = selectedOpponents ? generators : neighbourhoodGenerators;

        for (int batch = 0; batch < batches; batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var rows = order.narrow(0, (long)batch * batchSize, batchSize).to(_device);
            var real = _data.Images.index_select(0, rows);

            var generatorLoss = state.CellGeneratorLoss;
            if (_config.Network.Loss == LossKind.Mustangs && _config.Network.Randomized)
            {
                generatorLoss = DrawMustangsLoss(state.Random);
            }

            var discriminatorOpponent = discriminatorPool[state.Random.NextInt(discriminatorPool.Count)];
            foreach (var generator in generators)
            {
                GanSteps.TrainGenerator(generator, discriminatorOpponent, batchSize, generatorLoss, state.TorchRandom);
            }

            int skip = parameters.DiscriminatorSkipEachNthStep;
            if (skip == 0 || batch % (skip + 1) == 0)
            {
                var generatorOpponent = generatorPool[state.Random.NextInt(generatorPool.Count)];
                foreach (var discriminator in discriminators)
                {
                    GanSteps.TrainDiscriminator(discriminator, generatorOpponent, real, _config.Network.Loss, state.TorchRandom);
                }
            }
        }
    }

    private (double Score, double Tvd, bool Accepted) EvolveMixture(
        List<(int Cell, int Generation, Individual Generator, Individual Discriminator)> neighbours)
    {
        var state = State;
        if (_scorer is null || !_config.Trainer.Params.Score.Enabled)
        {
            return (double.NaN, double.NaN, false);
        }

        var members = MemberGenerators(neighbours.ToDictionary(n => n.Cell, n => n.Generator.Network));
        using var scope = torch.NewDisposeScope();
        var latent = Latent(_config.Trainer.Params.Score.ScoreSampleSize, state.CenterGenerator.Spec.LatentSize, state.TorchRandom);
        ScoreResult? parentResult = null;
        ScoreResult? candidateResult = null;
        var parentWeights = state.MixtureWeights;
        var step = MixtureEvolution.Step(
            parentWeights,
            _config.Trainer.Params.MixtureSigma,
            state.Random,
            ScoreKinds.HigherIsBetter(_scorer.Kind),
            weights =>
            {
                var result = ScoreWithLatent(members, weights, latent, state.Random, _scorer);
                if (ReferenceEquals(weights, parentWeights))
                {
                    parentResult = result;
                }
                else
                {
                    candidateResult = result;
                }

                return result.Value;
            });
        double tvd = (step.Accepted ? candidateResult : parentResult)!.Tvd;
        state.MixtureWeights = step.Weights;
        state.Score = step.Score;
        return (step.Score, tvd, step.Accepted);
    }

    /// <summary>Returns the generator of each mixture member, or null for a neighbour that has published nothing.</summary>
    public List<Sequential?> MemberGenerators(IReadOnlyDictionary<int, Sequential> neighbourGenerators) =>
        _mixtureMembers
            .Select(member => member == CellIndex
                ? State.CenterGenerator.Network
                : neighbourGenerators.GetValueOrDefault(member))
            .ToList();

    private ScoreResult ScoreWithLatent(
        IReadOnlyList<Sequential?> members, IReadOnlyList<double> weights, Tensor latent, CellRandom random, IImageScorer scorer)
    {
        var present = new List<Sequential>();
        var presentWeights = new List<double>();
        for (int i = 0; i < members.Count; i++)
        {
            if (members[i] is { } generator && weights[i] > 0)
            {
                present.Add(generator);
                presentWeights.Add(weights[i]);
            }
        }

        var assignment = MixtureSampler.AssignGenerators(
            presentWeights, (int)latent.shape[0], _config.Trainer.MixtureGeneratorSamplesMode, random);
        using var scope = torch.NewDisposeScope();
        var images = MixtureSampler.Generate(present, assignment, latent);
        return scorer.Score(images);
    }

    private void Evaluate(List<Individual> generators, List<Individual> discriminators, Tensor real, LossKind generatorLoss)
    {
        GanSteps.EvaluateAll(
            generators, discriminators, real, _config.Trainer.Params.Fitness.FitnessMode,
            generatorLoss, _config.Network.Loss, State.TorchRandom);
    }

    /// <summary>Re-evaluates trained individuals against the neighbourhood snapshot taken at the start of the generation.</summary>
    private void Evaluate(
        List<Individual> generators,
        List<Individual> opponentDiscriminators,
        List<Individual> discriminators,
        List<Individual> opponentGenerators,
        Tensor real)
    {
        var mode = _config.Trainer.Params.Fitness.FitnessMode;
        var generatorLoss = State.CellGeneratorLoss;
        GanSteps.EvaluateGenerators(generators, opponentDiscriminators, real.shape[0], mode, generatorLoss, State.TorchRandom);
        GanSteps.EvaluateDiscriminators(discriminators, opponentGenerators, real, mode, _config.Network.Loss, State.TorchRandom);
    }

    private Tensor RandomRows(int count)
    {
        int rows = Math.Min(count, (int)_data.Count);
        using var scope = torch.NewDisposeScope();
        var index = torch.randperm(_data.Count, generator: State.TorchRandom).narrow(0, 0, rows).to(_device);
        return _data.Images.index_select(0, index).MoveToOuterDisposeScope();
    }

    private Tensor Latent(int count, int size, torch.Generator random) =>
        torch.randn([count, size], generator: random).to(_device);

    private static LossKind DrawMustangsLoss(CellRandom random) =>
        random.NextInt(3) switch
        {
            0 => LossKind.Bce,
            1 => LossKind.Mse,
            _ => LossKind.Heuristic,
        };
}
