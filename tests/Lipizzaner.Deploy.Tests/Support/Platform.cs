// The deployment targets (containers, Singularity, LSF, Slurm) and the tools the tests run are Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
