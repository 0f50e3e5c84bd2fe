using Lipizzaner.Deploy.Tests.Support;

namespace Lipizzaner.Deploy.Tests.Hpc;

/// <summary>
/// singularity/lipizzaner.def, checked without singularity (which cannot be installed here): its
/// sections, the files they copy, and its runscript and test run as the POSIX shell scripts that
/// Singularity makes of them.
/// </summary>
public sealed class DefinitionFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lpz-def-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Definition_has_required_sections()
    {
        var definition = DefinitionFile.Load();

        Assert.Equal("docker", definition.Header["Bootstrap"]);
        Assert.Equal("{{ BASE_IMAGE }}", definition.Header["From"]);
        foreach (string section in new[] { "arguments", "files", "post", "environment", "runscript", "test", "labels", "help" })
        {
            Assert.True(definition.Sections.ContainsKey(section), $"%{section} is missing");
        }

        Assert.Contains("BASE_IMAGE=", definition.Sections["arguments"], StringComparison.Ordinal);
        Assert.Contains("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1", definition.Sections["environment"], StringComparison.Ordinal);
        Assert.Contains("redis-server", definition.Sections["post"], StringComparison.Ordinal);
        Assert.Contains("Lipizzaner__Worker__PreflightOnly=true", definition.Sections["test"], StringComparison.Ordinal);
    }

    [Fact]
    public void Files_match_build_stage()
    {
        var definition = DefinitionFile.Load();
        string build = File.ReadAllText(Repository.PathOf("singularity", "build.sh"));

        var copies = definition.Sections["files"].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(4, copies.Count);
        foreach (var copy in copies)
        {
            string folder = Assert.Single(copy[0].Split('/').Skip(1));
            Assert.Equal("stage", copy[0].Split('/')[0]);
            Assert.Equal($"/opt/lipizzaner/{folder}", copy[1]);
            // build.sh fills each staged folder, by publish target or by the MNIST copy.
            Assert.True(build.Contains($" {folder}\n", StringComparison.Ordinal) || build.Contains($"$stage/{folder}", StringComparison.Ordinal), $"build.sh does not stage {folder}");
        }

        foreach (var (project, folder, _) in PublishedServices.Services)
        {
            Assert.Contains($"publish {project} {folder}", build, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("coordinator", "coordinator/Lipizzaner.Coordinator")]
    [InlineData("worker", "cellworker/Lipizzaner.CellWorker")]
    [InlineData("cli", "cli/lipizzaner")]
    public async Task Runscript_dispatches_command(string command, string program)
    {
        string runscript = DefinitionFile.Load().WriteScript("runscript", _folder);
        string home = StubPrograms();

        var result = await ProcessRunner.RunAsync("sh", [runscript, command, "--flag", "two words"], TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string?> { ["LIPIZZANER_HOME"] = home });

        Assert.True(result.ExitCode == 0, result.AllText);
        Assert.Equal($"{program}|--flag|two words|preflight=", result.Output.Trim());
    }

    [Fact]
    public async Task Runscript_preflight_sets_flag()
    {
        string runscript = DefinitionFile.Load().WriteScript("runscript", _folder);

        var result = await ProcessRunner.RunAsync("sh", [runscript, "preflight"], TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string?> { ["LIPIZZANER_HOME"] = StubPrograms() });

        Assert.True(result.ExitCode == 0, result.AllText);
        Assert.Equal("cellworker/Lipizzaner.CellWorker|preflight=true", result.Output.Trim());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("train")]
    public async Task Runscript_unknown_command_prints_usage(string? command)
    {
        string runscript = DefinitionFile.Load().WriteScript("runscript", _folder);

        var result = await ProcessRunner.RunAsync("sh", command is null ? [runscript] : [runscript, command], TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string?> { ["LIPIZZANER_HOME"] = StubPrograms() });

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage: singularity run lipizzaner.sif coordinator|worker|cli|preflight", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sections_pass_shellcheck()
    {
        string shellcheck = Tools.Require("shellcheck", "shellcheck");
        var definition = DefinitionFile.Load();
        var scripts = new[] { "runscript", "test", "post", "environment" }.Select(section => definition.WriteScript(section, _folder)).ToList();

        var result = await ProcessRunner.RunAsync(shellcheck, ["-s", "sh", "-S", "warning", .. scripts], TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.AllText);
    }

    /// <summary>Programs in the image's layout that print their path, arguments and the preflight flag.</summary>
    private string StubPrograms()
    {
        string home = Path.Combine(_folder, "home");
        foreach (string program in new[] { "coordinator/Lipizzaner.Coordinator", "cellworker/Lipizzaner.CellWorker", "cli/lipizzaner" })
        {
            string path = Path.Combine(home, program);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, $"#!/bin/sh\nout='{program}'\nfor a in \"$@\"; do out=\"$out|$a\"; done\necho \"$out|preflight=$Lipizzaner__Worker__PreflightOnly\"\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return home;
    }
}
