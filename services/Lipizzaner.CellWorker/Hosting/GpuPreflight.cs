using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.CellWorker.Hosting;

/// <summary>A GPU as the NVIDIA driver's management library (NVML) reports it.</summary>
public sealed record GpuDevice(int Index, string Name, ulong TotalMemoryBytes, ulong FreeMemoryBytes);

/// <summary>What the worker process found out about its GPUs at start.</summary>
/// <param name="TorchBackend">The libtorch build the worker was published with: <c>cpu</c> or <c>cuda</c>.</param>
/// <param name="DriverLoaded">Whether the NVIDIA driver library <c>libcuda.so.1</c> loads.</param>
/// <param name="Devices">GPUs listed by NVML; empty when NVML is missing.</param>
/// <param name="TorchCudaDevices">CUDA devices that libtorch can use (0 with the CPU build).</param>
/// <param name="VisibleDevices">The value of <c>CUDA_VISIBLE_DEVICES</c>, or null when unset.</param>
public sealed record GpuProbeResult(
    string TorchBackend,
    bool DriverLoaded,
    IReadOnlyList<GpuDevice> Devices,
    int TorchCudaDevices,
    string? VisibleDevices);

/// <summary>
/// The cell worker's start-up check of its GPUs. It logs the torch backend, whether CUDA is usable,
/// and the name and memory of every device. When <c>Lipizzaner:Worker:RequireGpu</c> is true and no
/// GPU is usable, it logs what is missing and the process exits with <see cref="GpuMissingExitCode"/>.
/// <c>Lipizzaner:Worker:PreflightOnly=true</c> (environment variable
/// <c>Lipizzaner__Worker__PreflightOnly</c>) runs only this check, which needs none of the worker's
/// other settings.
/// </summary>
public sealed class GpuPreflight(IConfiguration configuration, ILogger<GpuPreflight> logger)
{
    /// <summary>Exit code of a worker that requires a GPU and has none usable.</summary>
    public const int GpuMissingExitCode = 3;

    /// <summary>Setting that makes a missing GPU fatal.</summary>
    public const string RequireGpuKey = "Lipizzaner:Worker:RequireGpu";

    /// <summary>Setting that stops the process after the check.</summary>
    public const string PreflightOnlyKey = "Lipizzaner:Worker:PreflightOnly";

    private const double Mebibyte = 1024 * 1024;

    public bool RequireGpu => configuration.GetValue(RequireGpuKey, defaultValue: false);

    public bool PreflightOnly => configuration.GetValue(PreflightOnlyKey, defaultValue: false);

    /// <summary>
    /// Probes the GPUs, logs the findings and returns the process exit code to stop with, or null
    /// when the worker may continue. A preflight-only run returns 0 when it passes.
    /// </summary>
    public int? Run(Func<GpuProbeResult>? probe = null)
    {
        var result = (probe ?? Probe)();
        Log(result);

        string? problem = Diagnose(result);
        if (problem is not null && RequireGpu)
        {
            logger.LogCritical("GPU required ({Setting}=true) but not usable: {Problem}", RequireGpuKey, problem);
            return GpuMissingExitCode;
        }

        if (problem is not null && result.TorchBackend == "cuda")
        {
            logger.LogWarning("No GPU usable, cells train on the CPU: {Problem}", problem);
        }

        return PreflightOnly ? 0 : null;
    }

    /// <summary>
    /// Returns what keeps the worker from using a GPU, naming the missing piece and the fix, or
    /// null when libtorch finds at least one CUDA device.
    /// </summary>
    public static string? Diagnose(GpuProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.TorchCudaDevices > 0)
        {
            return null;
        }

        if (result.TorchBackend != "cuda")
        {
            return $"this worker was published with the {result.TorchBackend} libtorch (TorchBackend={result.TorchBackend}); "
                + "use the CUDA worker image, built with -p:TorchBackend=cuda.";
        }

        if (!result.DriverLoaded)
        {
            return "the NVIDIA driver library libcuda.so.1 is missing. Install the NVIDIA driver on the host and pass the GPU into the "
                + "container: with Singularity or Apptainer run with --nv, with Docker use --gpus, on Kubernetes request nvidia.com/gpu "
                + "on a node with the NVIDIA device plugin.";
        }

        if (result.VisibleDevices is { } visible && (visible.Length == 0 || visible == "-1" || visible == "none"))
        {
            return $"no CUDA device is visible because CUDA_VISIBLE_DEVICES='{visible}'. Ask the scheduler for a GPU "
                + "(jsrun -g 1, srun --gpus-per-task=1, or an nvidia.com/gpu limit).";
        }

        if (result.Devices.Count == 0)
        {
            return "the NVIDIA driver is loaded but lists no device. Check that the job or pod was given a GPU "
                + "(jsrun -g 1, srun --gpus-per-task=1, or an nvidia.com/gpu limit) and that nvidia-smi shows it.";
        }

        return $"the driver lists {result.Devices.Count} device(s) but libtorch can use none. The driver may be older than the "
            + "CUDA version of the libtorch build (check nvidia-smi's CUDA version), or the devices are in exclusive use.";
    }

    /// <summary>Reads the backend, the driver's device list and libtorch's CUDA device count.</summary>
    public static GpuProbeResult Probe()
    {
        string backend = typeof(GpuPreflight).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == "TorchBackend")?.Value ?? "unknown";
        bool driverLoaded = NativeLibrary.TryLoad("libcuda.so.1", out var driver);
        if (driverLoaded)
        {
            NativeLibrary.Free(driver);
        }

        var devices = driverLoaded ? NvmlDevices.List() : [];
        int torchDevices = TorchSharp.torch.cuda.is_available() ? TorchSharp.torch.cuda.device_count() : 0;
        return new GpuProbeResult(backend, driverLoaded, devices, torchDevices, Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES"));
    }

    private void Log(GpuProbeResult result)
    {
        logger.LogInformation(
            "GPU preflight: torch backend {Backend}, CUDA available {CudaAvailable} ({TorchDevices} device(s) for libtorch), "
            + "NVIDIA driver {Driver}, CUDA_VISIBLE_DEVICES={VisibleDevices}",
            result.TorchBackend,
            result.TorchCudaDevices > 0,
            result.TorchCudaDevices,
            result.DriverLoaded ? "loaded" : "not found",
            result.VisibleDevices ?? "(unset)");
        foreach (var device in result.Devices)
        {
            logger.LogInformation(
                "GPU {Index}: {Name}, {TotalMiB:F0} MiB total, {FreeMiB:F0} MiB free",
                device.Index,
                device.Name,
                device.TotalMemoryBytes / Mebibyte,
                device.FreeMemoryBytes / Mebibyte);
        }
    }

    /// <summary>
    /// The devices of NVML (<c>libnvidia-ml.so.1</c>, shipped with the driver). NVML numbers every
    /// GPU that the container or job can see, which can differ from CUDA's order under
    /// <c>CUDA_VISIBLE_DEVICES</c>.
    /// </summary>
    private static class NvmlDevices
    {
        private const string Library = "libnvidia-ml.so.1";
        private const int Success = 0;

        public static IReadOnlyList<GpuDevice> List()
        {
            try
            {
                if (NativeMethods.nvmlInit_v2() != Success)
                {
                    return [];
                }
            }
            catch (DllNotFoundException)
            {
                return [];
            }
            catch (EntryPointNotFoundException)
            {
                return [];
            }

            try
            {
                if (NativeMethods.nvmlDeviceGetCount_v2(out uint count) != Success)
                {
                    return [];
                }

                var devices = new List<GpuDevice>();
                for (uint index = 0; index < count; index++)
                {
                    if (NativeMethods.nvmlDeviceGetHandleByIndex_v2(index, out var handle) != Success)
                    {
                        continue;
                    }

                    var name = new byte[96];
                    string deviceName = NativeMethods.nvmlDeviceGetName(handle, name, (uint)name.Length) == Success
                        ? Encoding.ASCII.GetString(name, 0, Math.Max(0, Array.IndexOf(name, (byte)0)))
                        : "(name unavailable)";
                    if (NativeMethods.nvmlDeviceGetMemoryInfo(handle, out var memory) != Success)
                    {
                        memory = default;
                    }

                    devices.Add(new GpuDevice((int)index, deviceName, memory.Total, memory.Free));
                }

                return devices;
            }
            finally
            {
                _ = NativeMethods.nvmlShutdown();
            }
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct NvmlMemory
        {
            public ulong Total;
            public ulong Free;
            public ulong Used;
        }

        private static class NativeMethods
        {
            [DllImport(Library)]
            public static extern int nvmlInit_v2();

            [DllImport(Library)]
            public static extern int nvmlShutdown();

            [DllImport(Library)]
            public static extern int nvmlDeviceGetCount_v2(out uint count);

            [DllImport(Library)]
            public static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

            [DllImport(Library)]
            public static extern int nvmlDeviceGetName(IntPtr device, [Out] byte[] name, uint length);

            [DllImport(Library)]
            public static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out NvmlMemory memory);
        }
    }
}
