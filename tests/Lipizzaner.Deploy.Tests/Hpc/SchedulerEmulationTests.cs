using System.Text.RegularExpressions;
using Lipizzaner.Core.Data;
using Lipizzaner.Core.IO;
using Lipizzaner.Deploy.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lipizzaner.Deploy.Tests.Hpc;

/// <summary>
/// The LSF and Slurm job scripts, run on this machine as the schedulers would run them: the
/// scheduler's variables (LSB_*, SLURM_*) are set, and local stand-ins for jsrun, srun,
/// singularity, bsub and sbatch (Hpc/Launchers) come first on PATH. The ranks start the real
/// published coordinator, cell workers and CLI, a real redis-server and, as the site's MinIO,
/// s3rver, all on 127.0.0.1 with free ports, and train a 2x1 MNIST grid for two generations.
/// </summary>
[Collection(PublishedServicesGroup.Name)]
public sealed partial class SchedulerEmulationTests(PublishedServices published) : IDisposable
{
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(10);

    private readonly string _folder = Directory.CreateTempSubdirectory("lpz-hpc-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Lsf_job_completes_run_with_minio()
    {
        var job = await PrepareAsync(withMinio: true);
        job.Environment["LSB_JOBID"] = "4242";
        job.Environment["LSB_JOBNAME"] = "lipizzaner-emulated";
        // The CSM layout: a launch node, then one compute node with 3 GPUs (3 resource sets).
        job.Environment["LSB_MCPU_HOSTS"] = "batch1 1 node17 42";
        job.Environment["LIPIZZANER_GPUS_PER_NODE"] = "3";
        job.Environment["LS_SUBCWD"] = Repository.Root;

        var result = await RunJobAsync(job, "singularity/lsf/lipizzaner.lsf");

        AssertCompleted(job, "4242", result);
        Assert.Contains("jsrun --nrs 3 bash", await File.ReadAllTextAsync(Path.Combine(job.Calls, "jsrun")), StringComparison.Ordinal);
        string[] objects = Directory.GetFiles(Path.Combine(job.JobDirectory, "s3"), "*", SearchOption.AllDirectories);
        string run = await File.ReadAllTextAsync(Path.Combine(job.JobDirectory, "run-id"));
        foreach (string cell in new[] { "0-0", "1-0" })
        {
            Assert.Contains(objects, path => path.Contains($"{run.Trim()}/cells/{cell}/gen-000002.ckpt", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Slurm_job_completes_run_with_folder()
    {
        var job = await PrepareAsync(withMinio: false);
        job.Environment["SLURM_JOB_ID"] = "777";
        job.Environment["SLURM_JOB_NAME"] = "lipizzaner-emulated";
        job.Environment["SLURM_NTASKS"] = "3";
        job.Environment["SLURM_SUBMIT_DIR"] = Repository.Root;

        var result = await RunJobAsync(job, "singularity/slurm/lipizzaner.sbatch");

        AssertCompleted(job, "777", result);
        Assert.Contains("srun --ntasks=3 bash", await File.ReadAllTextAsync(Path.Combine(job.Calls, "srun")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(job.JobDirectory, "logs", "777", "s3.log")), "an S3 server started without LIPIZZANER_MINIO");
        Assert.False(Directory.Exists(Path.Combine(job.JobDirectory, "s3")), "S3 data folder without LIPIZZANER_MINIO");
        string[] checkpoints = Directory.GetFiles(Path.Combine(job.JobDirectory, "checkpoints"), "*", SearchOption.AllDirectories);
        Assert.True(checkpoints.Length >= 2, $"the checkpoint folder contains {checkpoints.Length} files");
    }

    [Fact]
    public async Task Resubmitted_job_resumes_run()
    {
        // One minute of wall time less a 30 s margin stops the ranks 30 s after the start, before
        // 60 generations end. The job then resubmits itself with the same job directory.
        const int generations = 60;
        var job = await PrepareAsync(withMinio: true, generations, batches: 5);
        job.Environment["LSB_JOBID"] = "5151";
        job.Environment["LSB_JOBNAME"] = "lipizzaner-emulated";
        job.Environment["LSB_MCPU_HOSTS"] = "batch1 1 node17 42";
        job.Environment["LIPIZZANER_GPUS_PER_NODE"] = "3";
        job.Environment["LS_SUBCWD"] = Repository.Root;
        job.Environment["LIPIZZANER_WALLTIME_MINUTES"] = "1";
        job.Environment["LIPIZZANER_STOP_MARGIN_SECONDS"] = "30";
        job.Environment["LIPIZZANER_RESUBMIT_COUNT"] = "2";

        var first = await RunJobAsync(job, "singularity/lsf/lipizzaner.lsf");

        Assert.True(first.ExitCode == 0, first.AllText + Environment.NewLine + AllLogs(Path.Combine(job.JobDirectory, "logs", "5151")));
        Assert.True(File.ReadAllText(Path.Combine(job.JobDirectory, "state-5151")).Trim() == "timeout",
            $"the first job should stop at its deadline before {generations} generations; raise the generations for a faster machine");
        Assert.Contains("rank 1: worker stopped at the deadline", first.Error, StringComparison.Ordinal);
        Assert.Contains("rank 2: worker stopped at the deadline", first.Error, StringComparison.Ordinal);
        string resubmission = File.ReadAllText(Assert.Single(Directory.GetFiles(job.Calls, "resubmit.*")));
        Assert.Contains("command: bsub", resubmission, StringComparison.Ordinal);
        Assert.Contains("count: 3", resubmission, StringComparison.Ordinal);
        Assert.Contains($"job_dir: {job.JobDirectory}", resubmission, StringComparison.Ordinal);
        // bsub read the job script from standard input.
        Assert.Contains("#!/usr/bin/env bash", resubmission, StringComparison.Ordinal);
        string run = File.ReadAllText(Path.Combine(job.JobDirectory, "run-id")).Trim();
        string[] checkpoints = Directory.GetFiles(Path.Combine(job.JobDirectory, "s3"), "*.ckpt._S3rver_object", SearchOption.AllDirectories);
        Assert.Contains(checkpoints, path => path.Contains($"{run}/cells/0-0/gen-", StringComparison.Ordinal));
        Assert.Contains(checkpoints, path => path.Contains($"{run}/cells/1-0/gen-", StringComparison.Ordinal));
        Assert.True(Directory.GetFiles(Path.Combine(job.JobDirectory, "redis"), "*.aof", SearchOption.AllDirectories).Length > 0, "Redis wrote no append-only file");

        // The resubmitted job, as bsub would start it: a new job id, the same job directory.
        job.Environment["LSB_JOBID"] = "5152";
        job.Environment["LIPIZZANER_RESUBMIT_COUNT"] = "3";
        job.Environment["LIPIZZANER_WALLTIME_MINUTES"] = "12";
        job.Environment["LIPIZZANER_STOP_MARGIN_SECONDS"] = "60";

        var second = await RunJobAsync(job, "singularity/lsf/lipizzaner.lsf");

        string logs = AllLogs(Path.Combine(job.JobDirectory, "logs", "5152"));
        Assert.True(second.ExitCode == 0, second.AllText + Environment.NewLine + logs);
        Assert.Contains($"continuing run {run}", second.Error, StringComparison.Ordinal);
        Assert.Equal("completed", File.ReadAllText(Path.Combine(job.JobDirectory, "state-5152")).Trim());
        Assert.Equal(run, File.ReadAllText(Path.Combine(job.JobDirectory, "run-id")).Trim());
        Assert.Matches(@"resumes cell \d after generation [1-9]", logs);
        using var status = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(job.JobDirectory, "status-5152.json")));
        Assert.Equal(run, status.RootElement.GetProperty("run_id").GetString());
        Assert.All(status.RootElement.GetProperty("cells").EnumerateArray(), cell => Assert.Equal(generations, cell.GetProperty("generation").GetInt32()));
        Assert.Single(Directory.GetFiles(job.Calls, "resubmit.*"));
    }

    [Fact]
    public async Task Job_without_config_fails_early()
    {
        var job = await PrepareAsync(withMinio: false);
        job.Environment["SLURM_JOB_ID"] = "778";
        job.Environment["SLURM_NTASKS"] = "3";
        job.Environment["SLURM_SUBMIT_DIR"] = Repository.Root;
        job.Environment["LIPIZZANER_CONFIG"] = null;

        var result = await RunJobAsync(job, "singularity/slurm/lipizzaner.sbatch");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("LIPIZZANER_CONFIG: must name the run configuration", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(job.Calls, "srun")), "srun ran without a configuration");
    }

    [Fact]
    public async Task Job_with_one_task_is_rejected()
    {
        var job = await PrepareAsync(withMinio: false);
        job.Environment["SLURM_JOB_ID"] = "779";
        job.Environment["SLURM_NTASKS"] = "1";
        job.Environment["SLURM_SUBMIT_DIR"] = Repository.Root;

        var result = await RunJobAsync(job, "singularity/slurm/lipizzaner.sbatch");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("needs at least 2 resource sets or tasks", result.Error, StringComparison.Ordinal);
    }

    private static void AssertCompleted(EmulatedJob job, string jobId, ProcessResult result)
    {
        string logs = Path.Combine(job.JobDirectory, "logs", jobId);
        string details = result.AllText + Environment.NewLine + AllLogs(logs);
        Assert.True(result.ExitCode == 0, details);
        Assert.Equal("completed", File.ReadAllText(Path.Combine(job.JobDirectory, $"state-{jobId}")).Trim());
        Assert.Matches(RunIdPattern(), File.ReadAllText(Path.Combine(job.JobDirectory, "run-id")).Trim());
        using (var status = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(job.JobDirectory, $"status-{jobId}.json"))))
        {
            var cells = status.RootElement.GetProperty("cells").EnumerateArray().ToList();
            Assert.Equal(2, cells.Count);
            Assert.All(cells, cell => Assert.Equal("completed", cell.GetProperty("state").GetString()));
            Assert.All(cells, cell => Assert.Equal(2, cell.GetProperty("generation").GetInt32()));
            Assert.All(cells, cell => Assert.Matches(@"-r[12]$", cell.GetProperty("worker_id").GetString()));
        }

        // Scoring is off, so the coordinator has no best cell to report.
        Assert.False(File.Exists(Path.Combine(job.JobDirectory, $"results-{jobId}.txt")), "results file written for a run without scores");

        // Both workers register before the grid exists (MinClients is 2), but either may train both
        // cells, since a worker leases the next free cell as soon as its last one completed.
        var workerLogs = new[] { "worker-1.log", "worker-2.log" }.Select(worker => File.ReadAllText(Path.Combine(logs, worker))).ToList();
        Assert.All(workerLogs, text =>
        {
            Assert.Contains("GPU preflight: torch backend cpu", text, StringComparison.Ordinal);
            Assert.Contains("registered with capacity 1", text, StringComparison.Ordinal);
        });
        foreach (int cell in new[] { 0, 1 })
        {
            Assert.Contains(workerLogs, text => text.Contains($"finished generation 2 of cell {cell} ", StringComparison.Ordinal));
        }

        Assert.True(File.Exists(Path.Combine(logs, "coordinator.log")), "coordinator log missing");
        Assert.True(File.Exists(Path.Combine(logs, "redis.log")), "Redis log missing");
        Assert.Empty(Directory.GetFiles(job.Calls, "resubmit.*"));

        // Each kind of program ran inside the image.
        string calls = string.Join('\n', Directory.GetFiles(job.Calls, "singularity.*").Select(File.ReadAllText));
        foreach (string call in new[] { "exec redis-server", "run coordinator", "run worker", "run cli" })
        {
            Assert.Contains(call, calls, StringComparison.Ordinal);
        }

        // The secrets stay in the job directory's mode-600 file and in the environment.
        string token = File.ReadAllLines(Path.Combine(job.JobDirectory, "secrets.env")).Single(line => line.StartsWith("LIPIZZANER_TOKEN=", StringComparison.Ordinal))["LIPIZZANER_TOKEN=".Length..];
        Assert.DoesNotContain(token, AllLogs(logs) + result.Output + result.Error, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(job.JobDirectory, "secrets.env")));
    }

    private async Task<EmulatedJob> PrepareAsync(bool withMinio, int generations = 2, int batches = 2)
    {
        published.RequireSuccess();
        await MnistDownloader.EnsureAsync(LipizzanerPaths.DefaultMnistDirectory, NullLogger.Instance, CancellationToken.None);

        var job = new EmulatedJob(_folder);
        Directory.CreateDirectory(job.Bin);
        Directory.CreateDirectory(job.Calls);
        string launchers = Repository.PathOf("tests", "Lipizzaner.Deploy.Tests", "Hpc", "Launchers");
        foreach (var (name, source) in new[] { ("singularity", "singularity"), ("jsrun", "jsrun"), ("srun", "srun"), ("bsub", "resubmit"), ("sbatch", "resubmit"), ("minio", "minio") })
        {
            string target = Path.Combine(job.Bin, name);
            File.Copy(Path.Combine(launchers, source), target);
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var definition = DefinitionFile.Load();
        File.Move(definition.WriteScript("runscript", _folder), Path.Combine(_folder, "runscript.sh"), overwrite: true);
        File.Move(definition.WriteScript("environment", _folder), Path.Combine(_folder, "environment.sh"), overwrite: true);
        File.WriteAllText(job.Image, "stands in for lipizzaner.sif\n");

        string mnist = LipizzanerPaths.DefaultMnistDirectory;
        File.WriteAllText(job.Config, $$"""
            general: { seed: 3, checkpoint_period: 1, sample_period: 0 }
            grid: { width: 2, height: 1 }
            trainer:
              n_iterations: {{generations}}
              params:
                opponent: selected
                score: { enabled: false }
                fitness: { fitness_sample_size: 100 }
            dataloader: { batch_size: 50, n_batches: {{batches}}, data_dir: "{{mnist}}" }
            network: { name: 4lp }
            runtime: { torch_threads: 1, device: cpu }
            """);

        int workerBase = FreeRange(3);
        job.Environment["PATH"] = job.Bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        job.Environment["EMULATION_DIR"] = _folder;
        job.Environment["LIPIZZANER_HOME"] = published.Home;
        job.Environment["LIPIZZANER_IMAGE"] = job.Image;
        job.Environment["LIPIZZANER_CONFIG"] = job.Config;
        job.Environment["LIPIZZANER_JOB_DIR"] = job.JobDirectory;
        job.Environment["LIPIZZANER_BIND"] = mnist;
        job.Environment["LIPIZZANER_WALLTIME_MINUTES"] = "12";
        job.Environment["LIPIZZANER_STOP_MARGIN_SECONDS"] = "60";
        job.Environment["LIPIZZANER_BIND_ADDRESS"] = "127.0.0.1";
        job.Environment["LIPIZZANER_SERVICE_HOST"] = "127.0.0.1";
        job.Environment["LIPIZZANER_REDIS_PORT"] = $"{PublishedServices.FreePort()}";
        job.Environment["LIPIZZANER_S3_PORT"] = $"{PublishedServices.FreePort()}";
        job.Environment["LIPIZZANER_COORDINATOR_PORT"] = $"{PublishedServices.FreePort()}";
        job.Environment["LIPIZZANER_WORKER_PORT_BASE"] = $"{workerBase}";
        job.Environment["LIPIZZANER_REQUIRE_GPU"] = "false";
        job.Environment["LIPIZZANER_POLL_SECONDS"] = "2";
        job.Environment["LIPIZZANER_LEASE_DURATION"] = "00:00:30";
        job.Environment["LIPIZZANER_STARTUP_TIMEOUT"] = "240";
        job.Environment["S3RVER_SCRIPT"] = Repository.PathOf("build", "s3rver", "node_modules-root", "node_modules", "s3rver", "bin", "s3rver.js");
        if (withMinio)
        {
            job.Environment["LIPIZZANER_MINIO"] = Path.Combine(job.Bin, "minio");
            // s3rver accepts only its built-in access key; a site's MinIO takes the generated one.
            job.Environment["LIPIZZANER_S3_ACCESS_KEY"] = "S3RVER";
        }

        return job;
    }

    private static async Task<ProcessResult> RunJobAsync(EmulatedJob job, string script) =>
        await ProcessRunner.RunAsync("bash", [Repository.PathOf(script.Split('/'))], JobLimit, environment: job.Environment);

    private static string AllLogs(string folder) =>
        Directory.Exists(folder)
            ? string.Join(Environment.NewLine, Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(file => $"--- {Path.GetFileName(file)}{Environment.NewLine}{File.ReadAllText(file)}"))
            : "(no logs)";

    /// <summary>The first of <paramref name="count"/> consecutive ports on 127.0.0.1 that are all free.</summary>
    private static int FreeRange(int count)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int first = PublishedServices.FreePort();
            if (first + count < 65536 && Enumerable.Range(first + 1, count - 1).All(IsFree))
            {
                return first;
            }
        }

        throw new InvalidOperationException($"no {count} consecutive free ports found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex RunIdPattern();

    /// <summary>Folders and environment of one emulated job.</summary>
    private sealed class EmulatedJob(string folder)
    {
        public string Bin { get; } = Path.Combine(folder, "bin");

        public string Calls { get; } = Path.Combine(folder, "calls");

        public string Image { get; } = Path.Combine(folder, "lipizzaner.sif");

        public string Config { get; } = Path.Combine(folder, "run.yml");

        public string JobDirectory { get; } = Path.Combine(folder, "job");

        public Dictionary<string, string?> Environment { get; } = [];
    }
}
