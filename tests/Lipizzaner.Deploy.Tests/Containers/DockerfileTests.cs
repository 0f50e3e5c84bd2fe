using System.Text.RegularExpressions;
using Lipizzaner.Deploy.Tests.Support;

namespace Lipizzaner.Deploy.Tests.Containers;

/// <summary>
/// Static checks of the Dockerfiles under containers/. No container engine runs on the build
/// machines, so the images themselves are not built here. These checks keep the files consistent
/// with the repository they copy from.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Dockerfiles => new() { "coordinator.Dockerfile", "cellworker.Dockerfile", "cli.Dockerfile" };

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_is_multi_stage(string name)
    {
        var lines = Instructions(name);

        var stages = lines.Where(line => line.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.True(stages.Count >= 2, $"{name} has {stages.Count} stage(s)");
        Assert.Contains(lines, line => Regex.IsMatch(line, @"^RUN dotnet publish .*-c Release"));
        Assert.Contains(lines, line => line.StartsWith("COPY --from=", StringComparison.Ordinal));
        // Base images are build arguments; the files name no registry.
        Assert.All(stages, stage => Assert.Matches(@"^FROM (\$\{[A-Z_]+\}|[a-z-]+) AS [a-z-]+$", stage));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Final_stage_runs_non_root(string name)
    {
        foreach (var stage in FinalStages(name))
        {
            var user = stage.LastOrDefault(line => line.StartsWith("USER ", StringComparison.Ordinal)) ?? Inherited(name, stage, "USER ");
            Assert.NotNull(user);
            var match = UserPattern().Match(user);
            Assert.True(match.Success, $"{name}: '{user}' is not a numeric USER uid:gid");
            Assert.NotEqual("0", match.Groups[1].Value);
        }
    }

    [Fact]
    public void Services_have_health_checks()
    {
        foreach (string name in new[] { "coordinator.Dockerfile", "cellworker.Dockerfile" })
        {
            var healthCheck = Assert.Single(Instructions(name), line => line.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
            Assert.Contains("/opt/lipizzaner/healthcheck.sh", healthCheck, StringComparison.Ordinal);
            Assert.Contains(Instructions(name), line => line.Contains("containers/healthcheck.sh /opt/lipizzaner/healthcheck.sh", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Worker_has_cpu_and_cuda_targets()
    {
        var lines = Instructions("cellworker.Dockerfile");

        Assert.Contains("FROM build AS publish-cpu", lines);
        Assert.Contains("FROM build AS publish-cuda", lines);
        Assert.Contains(lines, line => line.Contains("-p:TorchBackend=cuda", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("-p:TorchBackend=cpu", StringComparison.Ordinal));
        Assert.Contains("COPY --from=publish-cuda /app /opt/lipizzaner/cellworker", lines);
        Assert.Contains("COPY --from=publish-cpu /app /opt/lipizzaner/cellworker", lines);
        Assert.Contains(lines, line => line.Contains("Lipizzaner__Worker__RequireGpu=true", StringComparison.Ordinal));
        // The last stage is the default target of docker build.
        Assert.StartsWith("FROM runtime AS cpu", lines.Last(line => line.StartsWith("FROM ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Copied_paths_exist(string name)
    {
        var copies = Instructions(name).Where(line => line.StartsWith("COPY ", StringComparison.Ordinal) && !line.Contains("--from=", StringComparison.Ordinal));

        foreach (string copy in copies)
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Where(part => !part.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (string source in parts.Take(parts.Count - 1))
            {
                string path = Repository.PathOf(source.Split('/'));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{name}: {copy} copies {source}, which does not exist");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Entrypoint_is_published_program(string name)
    {
        var entrypoint = Assert.Single(Instructions(name), line => line.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));
        var program = PublishedServices.Services.Single(service => name.StartsWith(service.Folder, StringComparison.Ordinal));

        Assert.Contains(name == "cli.Dockerfile" ? "lipizzaner" : $"/opt/lipizzaner/{program.Folder}/{program.Program}.dll", entrypoint, StringComparison.Ordinal);
        Assert.Contains(Instructions(name), line => line.Contains(program.Project, StringComparison.Ordinal));
    }

    [Fact]
    public void Dockerignore_excludes_build_outputs()
    {
        var entries = File.ReadAllLines(Repository.PathOf(".dockerignore")).Select(line => line.Trim()).ToHashSet(StringComparer.Ordinal);

        foreach (string excluded in new[] { "**/bin/", "**/obj/", ".git/", "artifacts/", "build/s3rver/", "**/node_modules/" })
        {
            Assert.Contains(excluded, entries);
        }

        // Everything the Dockerfiles copy stays in the build context.
        foreach (string kept in new[] { "services/", "build/torch-compat/", "containers/", "Lipizzaner.ServiceDefaults/", ".editorconfig" })
        {
            Assert.DoesNotContain(kept, entries);
        }
    }

    /// <summary>The instructions of a Dockerfile, with comments removed and continuation lines joined.</summary>
    private static List<string> Instructions(string name)
    {
        string text = File.ReadAllText(Repository.PathOf("containers", name));
        var lines = new List<string>();
        string pending = "";
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            pending += line.TrimEnd('\\').Trim() + " ";
            if (!line.EndsWith('\\'))
            {
                lines.Add(Regex.Replace(pending.Trim(), @"\s+", " "));
                pending = "";
            }
        }

        return lines;
    }

    /// <summary>The stages that a build can end in: cpu and cuda of the worker, runtime of the others.</summary>
    private static IEnumerable<List<string>> FinalStages(string name)
    {
        var stages = Stages(name);
        string[] finals = name == "cellworker.Dockerfile" ? ["cpu", "cuda"] : ["runtime"];
        return finals.Select(final => stages[final]);
    }

    private static Dictionary<string, List<string>> Stages(string name)
    {
        var stages = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (string line in Instructions(name))
        {
            if (line.StartsWith("FROM ", StringComparison.Ordinal))
            {
                current = [line];
                stages[line.Split(' ').Last()] = current;
            }
            else
            {
                current?.Add(line);
            }
        }

        return stages;
    }

    private static string? Inherited(string name, List<string> stage, string instruction)
    {
        string parent = stage[0].Split(' ')[1];
        var stages = Stages(name);
        return stages.TryGetValue(parent, out var parentStage)
            ? parentStage.LastOrDefault(line => line.StartsWith(instruction, StringComparison.Ordinal)) ?? Inherited(name, parentStage, instruction)
            : null;
    }

    [GeneratedRegex(@"^USER (\d+)(:\d+)?$")]
    private static partial Regex UserPattern();
}
