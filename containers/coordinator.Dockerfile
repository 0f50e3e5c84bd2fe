# syntax=docker/dockerfile:1
# The coordinator image. Build from the repository root (see docs/deploy-kubernetes.md):
#   docker build -f containers/coordinator.Dockerfile \
#     --build-arg SDK_IMAGE=<.NET 10 SDK image> --build-arg RUNTIME_IMAGE=<ASP.NET Core 10 runtime image> \
#     -t lipizzaner/coordinator:0.1.0 .
# The base images are arguments so that sites can use their own mirror of Microsoft's
# dotnet/sdk:10.0 and dotnet/aspnet:10.0 images.
ARG SDK_IMAGE
ARG RUNTIME_IMAGE

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first, from the project files only, so that a source change reuses the restore layer.
# .editorconfig sets the analyzer severities that the build enforces (EnforceCodeStyleInBuild).
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY Lipizzaner.ServiceDefaults/Lipizzaner.ServiceDefaults.csproj Lipizzaner.ServiceDefaults/
COPY services/Lipizzaner.Core/Lipizzaner.Core.csproj services/Lipizzaner.Core/
COPY services/Lipizzaner.Coordinator/Lipizzaner.Coordinator.csproj services/Lipizzaner.Coordinator/
RUN dotnet restore services/Lipizzaner.Coordinator/Lipizzaner.Coordinator.csproj -r linux-x64 -p:TorchBackend=cpu
COPY build/torch-compat build/torch-compat
COPY Lipizzaner.ServiceDefaults Lipizzaner.ServiceDefaults
COPY services/Lipizzaner.Core services/Lipizzaner.Core
COPY services/Lipizzaner.Coordinator services/Lipizzaner.Coordinator
RUN dotnet publish services/Lipizzaner.Coordinator/Lipizzaner.Coordinator.csproj -c Release --no-restore \
      -r linux-x64 --self-contained false -p:TorchBackend=cpu -o /app --nologo

FROM ${RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Lipizzaner coordinator" \
      org.opencontainers.image.description="Coordinator of distributed Lipizzaner GAN training runs" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /opt/lipizzaner/coordinator
COPY --from=build /app ./
COPY --chmod=0755 containers/healthcheck.sh /opt/lipizzaner/healthcheck.sh
# Writable paths: only /tmp (TMPDIR), so the root file system can be mounted read-only.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    TMPDIR=/tmp \
    DOTNET_NOLOGO=1
# UID 1654 is the non-root "app" user of the .NET images; a number, so Kubernetes can check runAsNonRoot.
USER 1654:1654
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/opt/lipizzaner/healthcheck.sh", "/health"]
ENTRYPOINT ["dotnet", "/opt/lipizzaner/coordinator/Lipizzaner.Coordinator.dll"]
