using System.Diagnostics;
using System.Globalization;
using Lipizzaner.CellWorker.Exchange;
using Lipizzaner.Core.Configuration;
using Lipizzaner.Core.Evolution;
using Lipizzaner.Core.Grid;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Training;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace Lipizzaner.Benchmarks;

/// <summary>
/// Cost of the Redis center exchange per cell and generation: publish the cell's center, then read
/// and deserialise its four neighbours' centers, with a real redis-server on 127.0.0.1. All
/// simulated cells of a W×W grid run in this process, as many at a time as there are processors.
/// The cost is set against the generation time of a cell, measured in the same run for 4lp and
/// estimated from measured batch steps for cnn64.
/// </summary>
public static class ExchangeBenchmark
{
    private const int Generations = 3;

    public static async Task RunAsync(double fourLayerCellSeconds, int parallelism)
    {
        TorchSetup.Configure(1);
        using var server = RedisProcess.Start();
        double cnn64CellSeconds = EstimateCnn64CellSeconds();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cnn64 cell generation (estimate: 100 measured-rate G+D steps at batch 100): {cnn64CellSeconds:F1} s"));

        foreach (var (kind, side, cellSeconds) in new[]
        {
            (NetworkKind.FourLayerPerceptron, 6, fourLayerCellSeconds),
            (NetworkKind.FourLayerPerceptron, 12, fourLayerCellSeconds),
            (NetworkKind.Cnn64, 6, cnn64CellSeconds),
            (NetworkKind.Cnn64, 12, cnn64CellSeconds),
        })
        {
            await MeasureAsync(server.Configuration, kind, side, cellSeconds, parallelism);
        }
    }

    private static async Task MeasureAsync(string configuration, NetworkKind kind, int side, double cellSeconds, int parallelism)
    {
        var topology = new GridTopology(side, side);
        string run = $"bench{side}{(int)kind}";
        await using var exchange = await RedisCenterExchange.ConnectAsync(configuration, run, topology, NullLogger.Instance);
        using var generator = Individual.Create(NetworkRole.Generator, kind, 0.0002, torch.CPU, 0);
        using var discriminator = Individual.Create(NetworkRole.Discriminator, kind, 0.0002, torch.CPU, 0);
        byte[] payload = CenterCodec.Encode(0, 0, generator, discriminator).Payload;
        long needed = (long)payload.Length * topology.CellCount;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (needed > available * 4 / 10)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"exchange {side}x{side}, {NetworkKindName(kind)}: skipped, because {topology.CellCount} centers of {payload.Length / 1e6:F1} MB ({needed / 1e9:F1} GB in Redis) exceed 40 % of this machine's {available / 1e9:F1} GB"));
            return;
        }

        for (int cell = 0; cell < topology.CellCount; cell++)
        {
            await exchange.PublishAsync(Snapshot(cell, 0, payload), CancellationToken.None);
        }

        var perCell = new List<double>();
        for (int generation = 1; generation <= Generations; generation++)
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, topology.CellCount),
                new ParallelOptions { MaxDegreeOfParallelism = parallelism },
                async (cell, token) =>
                {
                    long started = Stopwatch.GetTimestamp();
                    await exchange.PublishAsync(Snapshot(cell, generation, payload), token);
                    foreach (int neighbour in topology.Neighbours(cell))
                    {
                        var snapshot = await exchange.TryGetLatestAsync(neighbour, token);
                        var (g, d) = CenterCodec.Decode(snapshot!, torch.CPU);
                        g.Dispose();
                        d.Dispose();
                    }

                    double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    lock (perCell)
                    {
                        perCell.Add(seconds);
                    }
                });
        }

        double mean = perCell.Average();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exchange {side}x{side} = {topology.CellCount} cells, {NetworkKindName(kind)} center {payload.Length / 1e6:F1} MB: {mean * 1000:F0} ms per cell and generation (publish + 4 reads with checksum + deserialise), {100 * mean / cellSeconds:F2} % of a {cellSeconds:F2} s cell generation"));
    }

    private static CenterSnapshot Snapshot(int cell, int generation, byte[] payload) =>
        new(cell, generation, payload, Lipizzaner.Core.IO.AtomicFile.Sha256Hex(payload));

    private static double EstimateCnn64CellSeconds()
    {
        using var generator = Individual.Create(NetworkRole.Generator, NetworkKind.Cnn64, 0.0002, torch.CPU, 0);
        using var discriminator = Individual.Create(NetworkRole.Discriminator, NetworkKind.Cnn64, 0.0002, torch.CPU, 0);
        using var random = new torch.Generator(1);
        using var real = torch.rand(100, 64 * 64) * 2 - 1;
        GanSteps.TrainGenerator(generator, discriminator, 100, LossKind.Bce, random);
        GanSteps.TrainDiscriminator(discriminator, generator, real, LossKind.Bce, random);
        const int steps = 3;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++)
        {
            GanSteps.TrainGenerator(generator, discriminator, 100, LossKind.Bce, random);
            GanSteps.TrainDiscriminator(discriminator, generator, real, LossKind.Bce, random);
        }

        return Stopwatch.GetElapsedTime(started).TotalSeconds / steps * 100;
    }

    private static string NetworkKindName(NetworkKind kind) => kind == NetworkKind.Cnn64 ? "cnn64" : "4lp";
}
