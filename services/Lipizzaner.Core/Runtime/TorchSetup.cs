using System.Runtime.InteropServices;
using TorchSharp;

namespace Lipizzaner.Core.Runtime;

/// <summary>
/// Thread settings for libtorch, applied once before the first tensor operation. OpenMP reads
/// its settings from the native environment when it starts, and .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach it, so the values
/// go through libc's <c>setenv</c>. Passive waiting stops idle OpenMP threads from spinning on
/// cores that other cells need; on two busy cores spinning made a small GAN step 5 to 20 times slower.
/// </summary>
public static partial class TorchSetup
{
    private static readonly Lock Gate = new();
    private static bool _configured;

    /// <summary>Sets the intra-op thread count of every thread that runs torch code. Idempotent after the first call.</summary>
    public static void Configure(int threadsPerWorker)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadsPerWorker, 1);
        lock (Gate)
        {
            if (_configured)
            {
                torch.set_num_threads(threadsPerWorker);
                return;
            }

            string threads = threadsPerWorker.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                SetNativeVariableUnlessPresent("OMP_WAIT_POLICY", "PASSIVE");
                SetNativeVariableUnlessPresent("OMP_NUM_THREADS", threads);
                SetNativeVariableUnlessPresent("MKL_NUM_THREADS", threads);
            }

            torch.set_num_threads(threadsPerWorker);
            _configured = true;
        }
    }

    private static void SetNativeVariableUnlessPresent(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is null)
        {
            _ = SetEnv(name, value, 0);
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
