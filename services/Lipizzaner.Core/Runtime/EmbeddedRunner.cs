using Lipizzaner.Core.Checkpoints;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Imaging;
using Lipizzaner.Core.Randomness;
using Lipizzaner.Core.Reporting;
using Lipizzaner.Core.Networks;
using Lipizzaner.Core.Scoring;
using Lipizzaner.Core.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Runtime;

/// <summary>Final score of one cell's mixture, with its weights and the cells whose generators they weight.</summary>
public sealed record CellResult(
    int CellIndex, string CellName, double Score, double Tvd, IReadOnlyList<double> Weights, IReadOnlyList<string> Members);

/// <summary>Outcome of a run: per-cell final scores and the best cell, whose mixture was saved.</summary>
public sealed record RunResult(IReadOnlyList<CellResult> Cells, CellResult? Best, int Generations, MixtureManifest? Mixture);

/// <summary>
/// Trains every cell of the grid in this process. Cells exchange centers through an in-memory
/// <see cref="ICenterExchange"/> and checkpoint into the run folder. In asynchronous mode each cell
/// runs its own generation loop and reads the newest neighbour centers, whatever their generation.
/// In lockstep mode all cells finish generation t, then publish, before any starts t + 1. That makes
/// a run on the CPU bit-identical for a given seed and any degree of parallelism.
/// </summary>
public sealed class EmbeddedRunner
{
    private const ulong SampleNoisePurpose = 5;
    private const ulong EndOfRunEsPurpose = 6;

    private readonly LipizzanerConfig _config;
    private readonly RunResources _resources;
    private readonly ILogger _logger;
    private readonly GridTopology _topology;
    private readonly Device _device;

    private readonly TimeProvider _time;

    public EmbeddedRunner(LipizzanerConfig config, RunResources resources, ILogger logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _config = config;
        _resources = resources;
        _logger = logger;
        _topology = new GridTopology(config.Grid.Width, config.Grid.Height);
        _device = torch.device(config.Runtime.Device);
    }

    /// <summary>Raised after each cell generation, on the thread that ran it.</summary>
    public event Action<GenerationRecord>? GenerationCompleted;

    public GridTopology Topology => _topology;

    /// <summary>
    /// Runs the configured generations into <paramref name="folder"/>; with <paramref name="resume"/>,
    /// each cell first restores its newest valid checkpoint there (in lockstep mode, the newest
    /// generation that every cell has).
    /// </summary>
    public async Task<RunResult> RunAsync(RunFolder folder, bool resume, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        TorchSetup.Configure(_config.Runtime.TorchThreads);
        int parallelism = _config.Runtime.Parallelism == 0 ? Environment.ProcessorCount : _config.Runtime.Parallelism;
        var store = new FolderCheckpointStore(folder.CheckpointsDirectory, _topology);
        var exchange = new InMemoryCenterExchange();

        using var training = _resources.CreateTrainingData(NetworkFactory.Spec(_config.Network.Name).ImageSide, _device);
        using var runScorers = RunScorers.Create(_config, _resources, _logger);
        var cells = new List<CellTrainer>();
        var scorers = new List<IImageScorer>();
        try
        {
            for (int index = 0; index < _topology.CellCount; index++)
            {
                var scorer = runScorers?.CreateScorer(_config.Trainer.Params.Score.ScoreSampleSize);
                if (scorer is not null)
                {
                    scorers.Add(scorer);
                }

                cells.Add(new CellTrainer(index, _config, _topology, training, scorer, _device, _time));
            }

            int startGeneration = await PrepareCellsAsync(cells, store, folder, resume, cancellationToken).ConfigureAwait(false);
            foreach (var cell in cells)
            {
                await exchange.PublishAsync(cell.Center(), cancellationToken).ConfigureAwait(false);
            }

            _logger.LogInformation(
                "Training a {Width}x{Height} grid of {Network} cells for {Generations} generations ({Mode}, {Parallelism} in parallel), starting at generation {Start}",
                _topology.Width, _topology.Height, NetworkFactory.ConfigName(_config.Network.Name),
                _config.Trainer.NIterations, _config.Runtime.Mode, parallelism, startGeneration);

            if (_config.Runtime.Mode == RunMode.Lockstep)
            {
                await RunLockstepAsync(cells, exchange, store, folder, parallelism, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await RunAsynchronousAsync(cells, exchange, store, folder, parallelism, cancellationToken).ConfigureAwait(false);
            }

            if (folder.Records.Any(record => !double.IsNaN(record.Score)))
            {
                folder.WriteScorePlot(ScoreKinds.Label(_config.Trainer.Params.Score.Type));
            }

            var result = await FinishAsync(cells, exchange, folder, runScorers, cancellationToken).ConfigureAwait(false);
            RunReport.Write(folder, _config, _topology, result, _resources.ClassifierInfo);
            return result;
        }
        finally
        {
            foreach (var cell in cells)
            {
                cell.Dispose();
            }

            foreach (var scorer in scorers)
            {
                scorer.Dispose();
            }
        }
    }

    private async Task<int> PrepareCellsAsync(
        List<CellTrainer> cells, ICheckpointStore store, RunFolder folder, bool resume, CancellationToken cancellationToken)
    {
        if (!resume)
        {
            foreach (var cell in cells)
            {
                cell.Initialise();
            }

            return 0;
        }

        var states = _config.Runtime.Mode == RunMode.Lockstep
            ? await LoadCommonCheckpointsAsync(cells, store, cancellationToken).ConfigureAwait(false)
            : await LoadNewestCheckpointsAsync(cells, store, cancellationToken).ConfigureAwait(false);
        var restored = new Dictionary<int, int>();
        foreach (var cell in cells)
        {
            if (states.TryGetValue(cell.CellIndex, out var state))
            {
                cell.Restore(state);
                _logger.LogInformation("Cell {Cell} resumes after generation {Generation}", _topology.CellName(cell.CellIndex), state.Generation);
            }
            else
            {
                _logger.LogWarning("Cell {Cell} has no valid checkpoint; it starts from generation 0", _topology.CellName(cell.CellIndex));
                cell.Initialise();
            }

            restored[cell.CellIndex] = cell.State.Generation;
        }

        folder.LoadScoresForResume(restored);
        return restored.Values.Min();
    }

    /// <summary>Loads each cell's newest checkpoint that passes its checksum, falling back to older ones.</summary>
    private async Task<Dictionary<int, CellState>> LoadNewestCheckpointsAsync(
        List<CellTrainer> cells, ICheckpointStore store, CancellationToken cancellationToken)
    {
        var states = new Dictionary<int, CellState>();
        foreach (var cell in cells)
        {
            var generations = await store.ListAsync(cell.CellIndex, cancellationToken).ConfigureAwait(false);
            foreach (int generation in generations.OrderDescending())
            {
                var state = await TryLoadAsync(cell.CellIndex, generation, store, cancellationToken).ConfigureAwait(false);
                if (state is not null)
                {
                    states[cell.CellIndex] = state;
                    break;
                }
            }
        }

        return states;
    }

    /// <summary>
    /// Loads the checkpoints of the newest generation at which every cell has a valid one, so a
    /// lockstep run resumes with all cells at the same generation; returns none when there is no such generation.
    /// </summary>
    private async Task<Dictionary<int, CellState>> LoadCommonCheckpointsAsync(
        List<CellTrainer> cells, ICheckpointStore store, CancellationToken cancellationToken)
    {
        IEnumerable<int>? common = null;
        foreach (var cell in cells)
        {
            var generations = await store.ListAsync(cell.CellIndex, cancellationToken).ConfigureAwait(false);
            common = common is null ? generations : common.Intersect(generations);
        }

        foreach (int generation in (common ?? []).OrderDescending().ToList())
        {
            var states = new Dictionary<int, CellState>();
            foreach (var cell in cells)
            {
                var state = await TryLoadAsync(cell.CellIndex, generation, store, cancellationToken).ConfigureAwait(false);
                if (state is null)
                {
                    break;
                }

                states[cell.CellIndex] = state;
            }

            if (states.Count == cells.Count)
            {
                return states;
            }

            foreach (var state in states.Values)
            {
                state.Dispose();
            }
        }

        return [];
    }

    private async Task<CellState?> TryLoadAsync(int cellIndex, int generation, ICheckpointStore store, CancellationToken cancellationToken)
    {
        try
        {
            byte[] content = await store.ReadAsync(cellIndex, generation, cancellationToken).ConfigureAwait(false);
            return CellState.FromBytes(content, _device);
        }
        catch (Exception error) when (error is InvalidDataException or EndOfStreamException)
        {
            _logger.LogWarning(error, "Checkpoint of cell {Cell} at generation {Generation} is unusable; trying an older one",
                _topology.CellName(cellIndex), generation);
            return null;
        }
    }

    private async Task RunLockstepAsync(
        List<CellTrainer> cells, ICenterExchange exchange, ICheckpointStore store, RunFolder folder, int parallelism,
        CancellationToken cancellationToken)
    {
        int start = cells.Min(cell => cell.State.Generation);
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        for (int generation = start; generation < _config.Trainer.NIterations; generation++)
        {
            var records = new GenerationRecord[cells.Count];
            await Parallel.ForEachAsync(cells, options, async (cell, token) =>
            {
                records[cell.CellIndex] = await cell.RunGenerationAsync(exchange, token).ConfigureAwait(false);
            }).ConfigureAwait(false);

            // Publishing after the barrier keeps every cell of generation t on the centers of t − 1.
            foreach (var cell in cells)
            {
                await exchange.PublishAsync(cell.Center(), cancellationToken).ConfigureAwait(false);
                await AfterGenerationAsync(cell, records[cell.CellIndex], store, folder, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RunAsynchronousAsync(
        List<CellTrainer> cells, ICenterExchange exchange, ICheckpointStore store, RunFolder folder, int parallelism,
        CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(parallelism);
        var loops = cells.Select(cell => Task.Run(
            async () =>
            {
                while (cell.State.Generation < _config.Trainer.NIterations)
                {
                    await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                    GenerationRecord record;
                    try
                    {
                        record = await cell.RunGenerationAsync(exchange, cancellationToken).ConfigureAwait(false);
                        await exchange.PublishAsync(cell.Center(), cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        slots.Release();
                    }

                    await AfterGenerationAsync(cell, record, store, folder, cancellationToken).ConfigureAwait(false);
                }
            },
            cancellationToken));
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task AfterGenerationAsync(
        CellTrainer cell, GenerationRecord record, ICheckpointStore store, RunFolder folder, CancellationToken cancellationToken)
    {
        folder.Append(record);
        int generation = cell.State.Generation;
        int checkpointPeriod = _config.General.CheckpointPeriod;
        if (checkpointPeriod > 0 && (generation % checkpointPeriod == 0 || generation == _config.Trainer.NIterations))
        {
            await store.WriteAsync(cell.CellIndex, generation, cell.State.ToBytes(), cancellationToken).ConfigureAwait(false);
        }

        int samplePeriod = _config.General.SamplePeriod;
        if (samplePeriod > 0 && (generation % samplePeriod == 0 || generation == _config.Trainer.NIterations))
        {
            WriteSamples(cell, folder, generation);
        }

        GenerationCompleted?.Invoke(record);
    }

    /// <summary>Writes a grid of the center generator's images, always from the same per-cell latent noise, so generations compare.</summary>
    private void WriteSamples(CellTrainer cell, RunFolder folder, int generation)
    {
        using var scope = torch.NewDisposeScope();
        var center = cell.State.CenterGenerator;
        using var noise = new torch.Generator(CellRandom.DeriveSeed(_config.General.Seed, cell.CellIndex, SampleNoisePurpose));
        var latent = GanSteps.Latent(_config.DataLoader.SampleCount, center, noise);
        var images = MixtureSampler.Generate([center.Network], new int[_config.DataLoader.SampleCount], latent);
        int columns = (int)Math.Ceiling(Math.Sqrt(_config.DataLoader.SampleCount));
        SampleGrid.WritePng(
            Path.Combine(folder.SamplesDirectory, RunFolder.SampleFileName(generation, _topology.CellName(cell.CellIndex))),
            images.cpu(),
            center.Spec.ImageSide,
            columns);
    }

    private async Task<RunResult> FinishAsync(
        List<CellTrainer> cells, ICenterExchange exchange, RunFolder folder, RunScorers? runScorers, CancellationToken cancellationToken)
    {
        var centers = new Dictionary<int, Individual>();
        IImageScorer? finalScorer = null;
        try
        {
            foreach (var cell in cells)
            {
                var snapshot = await exchange.TryGetLatestAsync(cell.CellIndex, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"Cell {_topology.CellName(cell.CellIndex)} published no center.");
                var (generator, discriminator) = CenterCodec.Decode(snapshot, _device);
                discriminator.Dispose();
                centers[cell.CellIndex] = generator;
            }

            var generatorsByCell = centers.ToDictionary(pair => pair.Key, pair => pair.Value.Network);
            var results = new List<CellResult>();
            int finalSamples = _config.Trainer.Params.Score.FinalSampleSize;
            finalScorer = runScorers?.CreateScorer(finalSamples);
            bool scoring = finalScorer is not null;
            var kind = _config.Trainer.Params.Score.Type;
            string label = ScoreKinds.Label(kind);
            foreach (var cell in cells)
            {
                var members = cell.MemberGenerators(generatorsByCell);
                var score = finalScorer is null ? null : cell.ScoreMixture(members, cell.State.MixtureWeights, finalSamples, finalScorer);
                results.Add(new CellResult(
                    cell.CellIndex, _topology.CellName(cell.CellIndex), score?.Value ?? double.NaN, score?.Tvd ?? double.NaN,
                    cell.State.MixtureWeights, cell.MixtureMembers.Select(_topology.CellName).ToArray()));
                if (score is not null)
                {
                    LogFinalScore(cell.CellIndex, label, score, finalSamples);
                }
            }

            var best = !scoring ? results[0]
                : ScoreKinds.HigherIsBetter(kind) ? results.MaxBy(result => result.Score)!
                : results.MinBy(result => result.Score)!;
            var bestCell = cells[best.CellIndex];
            if (scoring && _config.Trainer.Params.OptimizeMixture.EsGenerations > 0 && bestCell.MixtureMembers.Count > 1)
            {
                best = OptimizeMixture(bestCell, bestCell.MemberGenerators(generatorsByCell), best, finalScorer!);
            }

            var mixtureMembers = bestCell.MixtureMembers
                .Select((member, i) => (_topology.CellName(member), generatorsByCell[member], best.Weights[i]))
                .ToList();
            var manifest = MixtureFolder.Write(
                folder.MixtureDirectory, _config.Network.Name, best.CellName, mixtureMembers,
                scoring ? best.Score : null, scoring && !double.IsNaN(best.Tvd) ? best.Tvd : null, scoring ? finalSamples : 0, kind);
            _logger.LogInformation("Best cell {Cell}; its mixture of {Count} generators is in {Directory}",
                best.CellName, mixtureMembers.Count, folder.MixtureDirectory);
            return new RunResult(results, best, _config.Trainer.NIterations, manifest);
        }
        finally
        {
            foreach (var generator in centers.Values)
            {
                generator.Dispose();
            }

            finalScorer?.Dispose();
        }
    }

    private void LogFinalScore(int cellIndex, string label, ScoreResult score, int samples)
    {
        string cell = _topology.CellName(cellIndex);
        if (!double.IsNaN(score.Tvd))
        {
            _logger.LogInformation("Cell {Cell}: final mixture {ScoreName} {Score:F3}, TVD {Tvd:F4} on {Samples} samples",
                cell, label, score.Value, score.Tvd, samples);
        }
        else
        {
            _logger.LogInformation("Cell {Cell}: final mixture {ScoreName} {Score:G5} ± {Spread:G3} on {Samples} samples",
                cell, label, score.Value, score.Spread, samples);
        }
    }

    /// <summary>
    /// End-of-run (1+1)-ES on the best cell's mixture weights: fixed latent noise, the parent's score
    /// kept, candidates accepted on strict improvement.
    /// </summary>
    private CellResult OptimizeMixture(CellTrainer cell, IReadOnlyList<Sequential?> members, CellResult start, IImageScorer scorer)
    {
        var settings = _config.Trainer.Params.OptimizeMixture;
        double sigma = settings.MixtureSigma ?? _config.Trainer.Params.MixtureSigma;
        var random = new CellRandom(CellRandom.DeriveSeed(_config.General.Seed, cell.CellIndex, EndOfRunEsPurpose));
        var weights = start.Weights.ToArray();
        var current = cell.ScoreMixture(members, weights, settings.SampleSize, scorer);
        double initial = current.Value;
        for (int generation = 0; generation < settings.EsGenerations; generation++)
        {
            var candidate = MixtureEvolution.Mutate(weights, sigma, random);
            var score = cell.ScoreMixture(members, candidate, settings.SampleSize, scorer);
            if (ScoreKinds.IsBetter(scorer.Kind, score.Value, current.Value))
            {
                weights = candidate;
                current = score;
            }
        }

        _logger.LogInformation("End-of-run mixture ES on cell {Cell}: {ScoreName} {Before:G5} -> {After:G5} over {Generations} generations ({Samples} samples)",
            start.CellName, ScoreKinds.Label(scorer.Kind), initial, current.Value, settings.EsGenerations, settings.SampleSize);
        var final = cell.ScoreMixture(members, weights, _config.Trainer.Params.Score.FinalSampleSize, scorer);
        return start with { Score = final.Value, Tvd = final.Tvd, Weights = weights };
    }
}
