using YamlDotNet.Serialization;

namespace Lipizzaner.Deploy.Tests.Support;

/// <summary>One rendered Kubernetes object, as nested dictionaries, lists and strings, with the template it came from.</summary>
public sealed class RenderedObject(string source, Dictionary<object, object> content)
{
    public string Source { get; } = source;

    public Dictionary<object, object> Content { get; } = content;

    public string Kind => (string)Content["kind"];

    public string Name => (string)Node.At(Content, "metadata.name")!;

    public object? At(string path) => Node.At(Content, path);

    /// <summary>The object's YAML text, for searching it.</summary>
    public string Text { get; init; } = "";

    /// <summary>The pod template of a workload, or the spec of a Pod; null for other kinds.</summary>
    public Dictionary<object, object>? PodSpec => Kind switch
    {
        "Pod" => (Dictionary<object, object>?)At("spec"),
        "Deployment" or "StatefulSet" or "Job" or "DaemonSet" => (Dictionary<object, object>?)At("spec.template.spec"),
        _ => null,
    };

    public IEnumerable<Dictionary<object, object>> Containers =>
        PodSpec is { } spec
            ? Node.List(spec, "containers").Concat(Node.List(spec, "initContainers")).Cast<Dictionary<object, object>>()
            : [];

    public override string ToString() => $"{Kind}/{Name} ({Source})";
}

/// <summary>Navigation in deserialised YAML.</summary>
public static class Node
{
    /// <summary>Returns the value at a dotted path of mapping keys, or null when a key is missing.</summary>
    public static object? At(object? node, string path)
    {
        foreach (string key in path.Split('.'))
        {
            if (node is not Dictionary<object, object> map || !map.TryGetValue(key, out node))
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>Returns the value of <paramref name="key"/> (which may contain dots, as labels do) in the mapping at <paramref name="path"/>, or null.</summary>
    public static object? Key(object? node, string path, string key) =>
        At(node, path) is Dictionary<object, object> map && map.TryGetValue(key, out var value) ? value : null;

    public static IEnumerable<object> List(object? node, string path) => At(node, path) as List<object> ?? [];

    /// <summary>The value of environment variable <paramref name="name"/> of a container, or null when it has none or takes it from a reference.</summary>
    public static Dictionary<object, object>? EnvEntry(Dictionary<object, object> container, string name) =>
        List(container, "env").Cast<Dictionary<object, object>>().FirstOrDefault(entry => (string)entry["name"] == name);
}

/// <summary>Exit code, messages and objects of one chart rendering.</summary>
public sealed record RenderResult(int ExitCode, string Error, IReadOnlyList<RenderedObject> Objects, string Output)
{
    public IEnumerable<RenderedObject> OfKind(string kind) => Objects.Where(item => item.Kind == kind);

    public RenderedObject Get(string kind, string nameSuffix) =>
        Assert.Single(Objects, item => item.Kind == kind && item.Name.EndsWith(nameSuffix, StringComparison.Ordinal));
}

/// <summary>
/// Renders charts/lipizzaner with tests/chart-render (Go's text/template, sprig and gojsonschema
/// from Debian's packaged sources, built once per test run in GOPATH mode, offline).
/// </summary>
public static class ChartRenderer
{
    public const string ReleaseName = "lpz";
    public const string Namespace = "gan";

    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static string? _binary;

    public static string ChartFolder => Repository.PathOf("charts", "lipizzaner");

    /// <summary>Renders the chart with <paramref name="valuesYaml"/> merged over values.yaml.</summary>
    public static async Task<RenderResult> RenderAsync(string valuesYaml = "", params string[] setStrings)
    {
        string binary = await BuildAsync();
        string valuesFile = Path.Combine(Path.GetTempPath(), $"lpz-values-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(valuesFile, valuesYaml);
        try
        {
            var arguments = new List<string> { "-chart", ChartFolder, "-release", ReleaseName, "-namespace", Namespace, "-values", valuesFile };
            foreach (string assignment in setStrings)
            {
                arguments.Add("-set-string");
                arguments.Add(assignment);
            }

            var result = await ProcessRunner.RunAsync(binary, arguments, TimeSpan.FromMinutes(1));
            return new RenderResult(result.ExitCode, result.Error, result.ExitCode == 0 ? Parse(result.Output) : [], result.Output);
        }
        finally
        {
            File.Delete(valuesFile);
        }
    }

    /// <summary>Renders and fails the test unless the rendering succeeded.</summary>
    public static async Task<RenderResult> RenderValidAsync(string valuesYaml = "")
    {
        var result = await RenderAsync(valuesYaml);
        Assert.True(result.ExitCode == 0, $"chart-render failed with exit code {result.ExitCode}: {result.Error}");
        return result;
    }

    /// <summary>Builds tests/chart-render into the test output folder, once per test process.</summary>
    public static async Task<string> BuildAsync()
    {
        await BuildLock.WaitAsync();
        try
        {
            if (_binary is not null)
            {
                return _binary;
            }

            string go = Tools.Require("go", "golang-go");
            Tools.RequireGoSource("github.com/Masterminds/sprig", "golang-github-masterminds-sprig-dev");
            Tools.RequireGoSource("gopkg.in/yaml.v3", "golang-gopkg-yaml.v3-dev");
            Tools.RequireGoSource("github.com/xeipuuv/gojsonschema", "golang-github-xeipuuv-gojsonschema-dev");
            // Next to the test binaries, so that each run replaces the last one's build.
            string output = Path.Combine(AppContext.BaseDirectory, "chart-render");
            Directory.CreateDirectory(output);
            string binary = Path.Combine(output, "chart-render");
            var result = await ProcessRunner.RunAsync(
                go,
                ["build", "-o", binary, "."],
                TimeSpan.FromMinutes(5),
                Repository.PathOf("tests", "chart-render"),
                new Dictionary<string, string?>
                {
                    // GOPATH mode against Debian's packaged sources: nothing is downloaded.
                    ["GO111MODULE"] = "off",
                    ["GOPATH"] = "/usr/share/gocode",
                    ["GOFLAGS"] = null,
                    ["GOPROXY"] = "off",
                    ["GOCACHE"] = Path.Combine(output, "cache"),
                });
            Assert.True(result.ExitCode == 0, $"go build of tests/chart-render failed: {result.AllText}");
            _binary = binary;
            return binary;
        }
        finally
        {
            BuildLock.Release();
        }
    }

    private static List<RenderedObject> Parse(string output)
    {
        var deserializer = new DeserializerBuilder().Build();
        var objects = new List<RenderedObject>();
        string source = "";
        foreach (string document in output.Split("\n---\n").Select(part => part.TrimStart('-', '\n')))
        {
            // A template with several objects has its "# Source:" line before the first only.
            string firstLine = document.Split('\n')[0];
            if (firstLine.StartsWith("# Source: ", StringComparison.Ordinal))
            {
                source = firstLine["# Source: ".Length..];
            }

            if (deserializer.Deserialize<object>(document) is Dictionary<object, object> content)
            {
                objects.Add(new RenderedObject(source, content) { Text = document });
            }
        }

        return objects;
    }
}
