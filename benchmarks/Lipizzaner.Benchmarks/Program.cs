using System.Globalization;
using Lipizzaner.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/Lipizzaner.Benchmarks -- [generation|exchange|coordinator|all] [generations] [parallelism]
string workload = args.Length > 0 ? args[0] : "all";
int generations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
int parallelism = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Environment.ProcessorCount;

double cellSeconds = double.NaN;
if (workload is "generation" or "all")
{
    cellSeconds = await GenerationBenchmark.RunAsync(generations, parallelism);
}

if (workload is "exchange" or "all")
{
    await ExchangeBenchmark.RunAsync(cellSeconds, parallelism);
}

if (workload is "coordinator" or "all")
{
    // The largest grid of the paper's runs, 18x18.
    await CoordinatorBenchmark.RunAsync(324);
}
