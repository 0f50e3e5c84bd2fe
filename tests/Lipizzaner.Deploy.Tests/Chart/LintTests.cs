using Lipizzaner.Deploy.Tests.Support;

namespace Lipizzaner.Deploy.Tests.Chart;

/// <summary>shellcheck on every shell script of the repository and yamllint on the chart's YAML and its rendered output.</summary>
public sealed class LintTests
{
    // Document starts and long lines are matters of taste; everything else of yamllint's default set applies.
    private const string YamlRules = "{extends: default, rules: {line-length: disable, document-start: disable, comments: {min-spaces-from-content: 1}}}";

    [Fact]
    public async Task Shellcheck_passes_every_script()
    {
        string shellcheck = Tools.Require("shellcheck", "shellcheck");
        var scripts = ShellScripts();
        Assert.Contains("singularity/lsf/lipizzaner.lsf", scripts);
        Assert.Contains("singularity/slurm/lipizzaner.sbatch", scripts);
        Assert.Contains("singularity/lipizzaner-rank.sh", scripts);
        Assert.Contains("containers/healthcheck.sh", scripts);

        // -x follows sourced files; warnings and errors fail, style and information notes do not.
        var result = await ProcessRunner.RunAsync(shellcheck, ["-x", "-S", "warning", "-s", "bash", .. scripts], TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.AllText);
    }

    [Fact]
    public async Task Yamllint_passes_chart_files()
    {
        string yamllint = Tools.Require("yamllint", "yamllint");

        var result = await ProcessRunner.RunAsync(yamllint, ["-s", "-d", YamlRules, "charts/lipizzaner/Chart.yaml", "charts/lipizzaner/values.yaml"], TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.AllText);
    }

    [Theory]
    [InlineData("")]
    [InlineData("workers: { gpusPerWorker: 0 }\nmetrics: { serviceMonitor: { enabled: true } }")]
    [InlineData("checkpoints: { store: folder, folder: { existingClaim: shared } }\nredis: { persistence: { enabled: false } }\nnetworkPolicy: { enabled: false }")]
    public async Task Yamllint_passes_rendered_chart(string values)
    {
        string yamllint = Tools.Require("yamllint", "yamllint");
        var chart = await ChartRenderer.RenderValidAsync(values);
        string file = Path.Combine(Path.GetTempPath(), $"lpz-rendered-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, chart.Output);
        try
        {
            var result = await ProcessRunner.RunAsync(yamllint, ["-s", "-d", YamlRules, file], TimeSpan.FromMinutes(1));

            Assert.True(result.ExitCode == 0, result.AllText);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Readme_lists_every_value()
    {
        string readme = File.ReadAllText(Repository.PathOf("charts", "lipizzaner", "README.md"));
        var deserializer = new YamlDotNet.Serialization.DeserializerBuilder().Build();
        var values = deserializer.Deserialize<Dictionary<object, object>>(File.ReadAllText(Repository.PathOf("charts", "lipizzaner", "values.yaml")));

        var missing = LeafKeys(values, "").Where(key => !readme.Contains($"`{key}`", StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, "charts/lipizzaner/README.md does not list: " + string.Join(", ", missing));
    }

    /// <summary>Script files tracked or new in the repository, relative to its root.</summary>
    public static List<string> ShellScripts()
    {
        string[] skipped = ["/bin/", "/obj/", "/node_modules", "/stage/", "/.git/", "/artifacts/"];
        return Directory.EnumerateFiles(Repository.Root, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Repository.Root, path).Replace('\\', '/'))
            .Where(path => !skipped.Any(part => ("/" + path).Contains(part, StringComparison.Ordinal)))
            .Where(path => path.EndsWith(".sh", StringComparison.Ordinal) || path.EndsWith(".lsf", StringComparison.Ordinal)
                || path.EndsWith(".sbatch", StringComparison.Ordinal) || path is "lipizzaner" or ".ci/run")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<string> LeafKeys(Dictionary<object, object> map, string prefix)
    {
        foreach (var (key, value) in map)
        {
            string path = prefix + (string)key;
            // Maps that are empty by default (nodeSelector: {}) and Kubernetes objects are values themselves.
            if (value is Dictionary<object, object> child && child.Count > 0 && path is not ("podSecurityContext" or "securityContext") && !path.EndsWith("resources", StringComparison.Ordinal))
            {
                foreach (string leaf in LeafKeys(child, path + "."))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return path;
            }
        }
    }
}
