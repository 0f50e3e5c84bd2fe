using System.ComponentModel;
using System.Diagnostics;

namespace Lipizzaner.Core.Tests.Interop;

/// <summary>
/// Runs scripts on the system's Python with Debian's PyTorch package (<c>python3-torch</c>), the independent
/// implementation that the interop tests check the C# reader and writer against.
/// </summary>
public static class SystemTorch
{
    /// <summary>Debian's interpreter; a <c>python3</c> earlier on PATH (a pyenv, a venv) usually lacks torch.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly Lazy<string?> Problem = new(FindProblem);

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> and returns the last line it prints.</summary>
    public static string Run(string script, params string[] arguments)
    {
        if (Problem.Value is { } problem)
        {
            Assert.Fail($"PyTorch for {Python} is needed by this test but {problem}. Install it with 'apt-get install -y python3-torch'.");
        }

        var (exitCode, output, errors) = Start(["-c", script, .. arguments]);
        Assert.True(exitCode == 0, $"{Python} exited with {exitCode}:{Environment.NewLine}{errors}");
        return output.TrimEnd().Split('\n')[^1];
    }

    private static string? FindProblem()
    {
        try
        {
            var (exitCode, _, errors) = Start(["-c", "import torch, numpy; print(torch.__version__)"]);
            return exitCode == 0 ? null : $"'import torch' failed: {errors.Trim()}";
        }
        catch (Win32Exception error)
        {
            return $"{Python} could not be started ({error.Message})";
        }
    }

    private static (int ExitCode, string Output, string Errors) Start(string[] arguments)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["PYTHONNOUSERSITE"] = "1";
        start.Environment.Remove("PYTHONPATH");
        start.Environment.Remove("PYTHONHOME");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Python} did not finish within {Timeout.TotalMinutes} minutes.");
        }

        return (process.ExitCode, output.GetAwaiter().GetResult(), errors.GetAwaiter().GetResult());
    }
}
